extern alias generators;
using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Peft.Typed.Testing;
using ArchitectureFileRequest = generators::Peft.Typed.Generators.Models.ArchitectureFileRequest;
using ModelBuilding = generators::Peft.Typed.Generators.Pipeline.ModelBuilding;
using TypedModelEmitter = generators::Peft.Typed.Generators.Emit.TypedModelEmitter;
using TypedModelGenerator = generators::Peft.Typed.Generators.TypedModelGenerator;
using TypedModelSpec = generators::Peft.Typed.Generators.Models.TypedModelSpec;

namespace Peft.Typed.Benchmarks.Generators;

/// <summary>
/// The source generator on the SDXL UNet config.json (1930 modules): a full run from a fresh driver (parse,
/// tree, emit of the typed class, what a build or the first IDE load pays), and the re-run after an unrelated
/// C# edit (what each IDE keystroke pays: every step cached); and the generator's own two stages of the full run,
/// config.json to spec (parse, validate, build the tree) and spec to source text.
/// </summary>
[MemoryDiagnoser]
public class GeneratorBenchmarks
{
    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private CSharpCompilation _compilation = null!;
    private CSharpCompilation _edited = null!;
    private ImmutableArray<AdditionalText> _texts;
    private BenchmarkOptionsProvider _options = null!;
    private GeneratorDriver _warm = null!;
    private ArchitectureFileRequest _request = null!;
    private TypedModelSpec _spec = null!;

    [GlobalSetup]
    public void Setup()
    {
        var path = Fixtures.PathOf("architectures", "sdxl-base-unet", "config.json");
        _texts = [new BenchmarkAdditionalText(path, File.ReadAllText(path))];
        _options = new BenchmarkOptionsProvider(path, "SdxlUnet", "App");
        // By file: loading Peft.Typed.Models would run its module initializer, which starts libtorch.
        var references = new[] { typeof(object).Assembly.Location, typeof(Peft.Typed.Architecture.Targeting.ModuleCatalog).Assembly.Location }
            .Concat(new[] { "TorchSharp.dll", "Peft.Typed.Models.dll" }.Select(f => Path.Combine(AppContext.BaseDirectory, f)))
            .Select(path => MetadataReference.CreateFromFile(path));
        _compilation = CSharpCompilation.Create("App", [CSharpSyntaxTree.ParseText("namespace App; public static class A { }", ParseOptions)], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        _edited = _compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace App; public static class B { }", ParseOptions));
        _request = new ArchitectureFileRequest(path, "SdxlUnet", "App", File.ReadAllText(path));
        _spec = ModelBuilding.Build(_request, default).Spec!;
        _warm = CreateDriver().RunGenerators(_compilation);
        if (_warm.GetRunResult().GeneratedTrees.Length != 1) throw new InvalidOperationException("The generator produced no typed class; check the references.");
    }

    [Benchmark]
    public GeneratorDriver FullRunSdxlUnet() => CreateDriver().RunGenerators(_compilation);

    [Benchmark]
    public GeneratorDriver RerunAfterUnrelatedEdit() => _warm.RunGenerators(_edited);

    [Benchmark]
    public object? BuildSpecSdxlUnet() => ModelBuilding.Build(_request, default).Spec;

    [Benchmark]
    public string EmitSourceSdxlUnet() => TypedModelEmitter.Emit(_spec);

    private GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create([new TypedModelGenerator().AsSourceGenerator()], _texts, ParseOptions, _options);
}
