extern alias generators;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using AdapterFileAnalyzer = generators::Peft.Typed.Generators.Analysis.AdapterFileAnalyzer;
using SettingAnalyzer = generators::Peft.Typed.Generators.Analysis.SettingAnalyzer;
using TargetAnalyzer = generators::Peft.Typed.Generators.Analysis.TargetAnalyzer;
using TypedModelGenerator = generators::Peft.Typed.Generators.TypedModelGenerator;

namespace Peft.Typed.Generators.Tests.Support;

/// <summary>
/// Runs the generator (and the analyzer) in-process on a compilation that references the runtime libraries, the
/// way the compiler does in a project using the package.
/// </summary>
public static class GeneratorHarness
{
    public const string RootNamespace = "Peft.Typed.Generated";

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly Lazy<IReadOnlyList<MetadataReference>> LazyReferences = new(LoadReferences);

    /// <summary>The framework, TorchSharp, Peft.Typed.Models and Peft.Typed.Architecture.</summary>
    public static IReadOnlyList<MetadataReference> References => LazyReferences.Value;

    public static CSharpCompilation Compilation(IEnumerable<string> sources, bool withModels = true) =>
        CSharpCompilation.Create(
            "Generated" + Guid.NewGuid().ToString("N"),
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
            withModels ? References : References.Where(r => !IsLibrary(r)),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver CreateDriver(IReadOnlyList<ArchitectureInput> inputs, string rootNamespace = RootNamespace) =>
        CreateDriver(inputs, AdditionalTexts(inputs), rootNamespace);

    /// <summary>A driver over the given <paramref name="texts"/> objects, so a test can replace one of them later.</summary>
    public static GeneratorDriver CreateDriver(IReadOnlyList<ArchitectureInput> inputs, ImmutableArray<AdditionalText> texts, string rootNamespace = RootNamespace) =>
        CSharpGeneratorDriver.Create(
            [new TypedModelGenerator().AsSourceGenerator()],
            texts,
            ParseOptions,
            OptionsProvider(inputs, rootNamespace),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator on <paramref name="sources"/>; returns the result and the compilation with the generated code.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(IReadOnlyList<ArchitectureInput> inputs, IEnumerable<string>? sources = null,
        bool withModels = true, string rootNamespace = RootNamespace, IReadOnlyList<AdapterInput>? adapters = null)
    {
        adapters ??= [];
        var driver = CSharpGeneratorDriver.Create(
            [new TypedModelGenerator().AsSourceGenerator()],
            AdditionalTexts(inputs).AddRange(AdapterTexts(adapters)),
            ParseOptions,
            OptionsProvider(inputs, rootNamespace, adapters),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        var run = driver.RunGeneratorsAndUpdateCompilation(Compilation(sources ?? [], withModels), out var output, out _);
        return (run.GetRunResult(), output);
    }

    /// <summary>The generated source of the only typed class of <paramref name="input"/>.</summary>
    public static string GenerateSource(ArchitectureInput input)
    {
        var (result, _) = Run([input]);
        Assert.Empty(result.Diagnostics);
        return Assert.Single(Assert.Single(result.Results).GeneratedSources).SourceText.ToString();
    }

    /// <summary>Generates the typed classes, adds <paramref name="sources"/>, and returns the analyzers' diagnostics plus every compiler error and warning.</summary>
    public static Task<ImmutableArray<Diagnostic>> AnalyzeAsync(IReadOnlyList<ArchitectureInput> inputs, params string[] sources) =>
        AnalyzeAsync(inputs, [], analyzerSeesArchitectureFiles: true, sources);

    /// <summary>
    /// As <see cref="AnalyzeAsync(IReadOnlyList{ArchitectureInput}, string[])"/>, with adapter config files declared with
    /// <c>PeftAdapterFor</c>; with <paramref name="analyzerSeesArchitectureFiles"/> false the analyzers get no architecture
    /// files, only the compilation holding the generated code.
    /// </summary>
    public static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(IReadOnlyList<ArchitectureInput> inputs, IReadOnlyList<AdapterInput> adapters,
        bool analyzerSeesArchitectureFiles, params string[] sources)
    {
        var (result, output) = Run(inputs, sources, adapters: adapters);
        Assert.Empty(result.Diagnostics);
        var analyzers = ImmutableArray.Create<DiagnosticAnalyzer>(new TargetAnalyzer(), new SettingAnalyzer(), new AdapterFileAnalyzer());
        var shown = analyzerSeesArchitectureFiles ? inputs : [];
        var options = new AnalyzerOptions(AdditionalTexts(shown).AddRange(AdapterTexts(adapters)), OptionsProvider(shown, RootNamespace, adapters));
        var withAnalyzers = output.WithAnalyzers(analyzers, options);
        return await withAnalyzers.GetAllDiagnosticsAsync();
    }

    public static ImmutableArray<AdditionalText> AdditionalTexts(IEnumerable<ArchitectureInput> inputs) =>
        inputs.Select(i => (AdditionalText)new InMemoryAdditionalText(i.Path, i.Text)).ToImmutableArray();

    public static TestOptionsProvider OptionsProvider(IEnumerable<ArchitectureInput> inputs, string rootNamespace, IReadOnlyList<AdapterInput>? adapters = null) =>
        new(inputs.ToDictionary(i => i.Path, i => i.ClassName), rootNamespace, adapters?.ToDictionary(a => a.Path, a => a.ModelClass));

    private static IEnumerable<AdditionalText> AdapterTexts(IEnumerable<AdapterInput> adapters) =>
        adapters.Select(a => (AdditionalText)new InMemoryAdditionalText(a.Path, a.Text));

    /// <summary>"(line,column)" of a diagnostic's start, 1-based as in build output.</summary>
    public static string Position(Diagnostic diagnostic)
    {
        var start = diagnostic.Location.GetLineSpan().StartLinePosition;
        return $"({start.Line + 1},{start.Character + 1})";
    }

    private static bool IsLibrary(MetadataReference reference) =>
        reference.Display is { } path && Path.GetFileName(path).StartsWith("Peft.Typed.", StringComparison.Ordinal);

    private static IReadOnlyList<MetadataReference> LoadReferences()
    {
        var frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var framework = trusted.Where(p => Path.GetDirectoryName(p) == frameworkDirectory);
        var libraries = new[]
        {
            typeof(TorchSharp.torch).Assembly.Location,
            typeof(Peft.Typed.Models.Typed.TypedModel).Assembly.Location,
            typeof(Peft.Typed.Architecture.Targeting.ModuleCatalog).Assembly.Location,
        };
        return framework.Concat(libraries).Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
    }
}
