extern alias codefixes;
extern alias generators;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Peft.Typed.Generators.Tests.Support;
using TargetAnalyzer = generators::Peft.Typed.Generators.Analysis.TargetAnalyzer;
using TargetNameCodeFixProvider = codefixes::Peft.Typed.Generators.CodeFixes.TargetNameCodeFixProvider;

namespace Peft.Typed.Generators.Tests.Diagnostics;

/// <summary>
/// The target-name code fix on code using the generated TinyUnet: the source before and after applying every fix the
/// analyzer's diagnostics offer, one at a time, as an IDE's "fix all" would.
/// </summary>
public sealed class CodeFixTests
{
    private static string Program(string line) => $$"""
        using Peft.Typed.Architecture.Targeting;
        using Peft.Typed.Generated;
        using Peft.Typed.Models.Adapters.Lora;

        public static class Program
        {
            public static void Main()
            {
                {{line}}
            }
        }
        """;

    [Fact]
    public async Task Misspelt_target_is_replaced_by_the_suggested_module_name()
    {
        var (after, titles) = await FixAll(Program("""var targets = TinyUnet.Targets.Named("to_q", "to_vv");"""));

        Assert.Equal(Program("""var targets = TinyUnet.Targets.Named("to_q", "to_v");"""), after);
        Assert.Equal(["Use 'to_v'"], titles);
    }

    [Fact]
    public async Task Old_attention_names_are_replaced_by_their_current_names()
    {
        var (after, titles) = await FixAll(Program("""var targets = TinyUnet.Targets.Named("to_k", "query", "value");"""));

        Assert.Equal(Program("""var targets = TinyUnet.Targets.Named("to_k", "to_q", "to_v");"""), after);
        Assert.Equal(["Use 'to_q'", "Use 'to_v'"], titles);
    }

    [Fact]
    public async Task Misspelt_name_in_a_config_given_to_a_typed_model_is_fixed_keeping_the_surrounding_text()
    {
        var before = Program("""using var unet = TinyUnet.Create(Peft.Typed.Models.Layers.LayerFactory.Meta); unet.WithAdapter(new LoraConfig { TargetModules = TargetModules.FromNames( "to_q" ,  "to_outt.0" ) });""");

        var (after, _) = await FixAll(before);

        Assert.Equal(before.Replace("\"to_outt.0\"", "\"to_out.0\""), after);
    }

    /// <summary>Applies the first fix of the first fixable diagnostic until none is left; returns the final text and the titles of the fixes applied.</summary>
    private static async Task<(string Text, IReadOnlyList<string> Titles)> FixAll(string source)
    {
        var (result, output) = GeneratorHarness.Run([ArchitectureInputs.TinyUnet], [source]);
        Assert.Empty(result.Diagnostics);
        using var workspace = new AdhocWorkspace();
        var project = workspace.AddProject(ProjectInfo.Create(ProjectId.CreateNewId(), VersionStamp.Create(), "App", "App", LanguageNames.CSharp,
            compilationOptions: output.Options, parseOptions: GeneratorHarness.ParseOptions, metadataReferences: GeneratorHarness.References));
        var document = workspace.AddDocument(project.Id, "Program.cs", SourceText.From(source));
        // The generated classes as plain documents: the analyzer and the fix see what the compiler would.
        foreach (var tree in output.SyntaxTrees.Skip(1)) workspace.AddDocument(project.Id, Path.GetFileName(tree.FilePath), tree.GetText());
        var solution = workspace.CurrentSolution;
        var provider = new TargetNameCodeFixProvider();
        var titles = new List<string>();
        for (int round = 0; round < 10; round++)
        {
            document = solution.GetDocument(document.Id)!;
            var compilation = (await document.Project.GetCompilationAsync())!;
            Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
            var analyzers = ImmutableArray.Create<DiagnosticAnalyzer>(new TargetAnalyzer());
            var tree = await document.GetSyntaxTreeAsync();
            var fixable = (await compilation.WithAnalyzers(analyzers).GetAnalyzerDiagnosticsAsync())
                .Where(d => d.Location.SourceTree == tree && provider.FixableDiagnosticIds.Contains(d.Id))
                .OrderBy(d => d.Location.SourceSpan.Start)
                .ToList();
            if (fixable.Count == 0) return ((await document.GetTextAsync()).ToString(), titles);
            var actions = new List<CodeAction>();
            await provider.RegisterCodeFixesAsync(new CodeFixContext(document, fixable[0], (action, _) => actions.Add(action), CancellationToken.None));
            var action = Assert.Single(actions);
            titles.Add(action.Title);
            var operations = await action.GetOperationsAsync(CancellationToken.None);
            solution = operations.OfType<ApplyChangesOperation>().Single().ChangedSolution;
        }
        throw new InvalidOperationException("Fixes did not converge in 10 rounds.");
    }
}
