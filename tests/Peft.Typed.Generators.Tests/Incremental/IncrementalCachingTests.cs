extern alias generators;
using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Peft.Typed.Generators.Tests.Support;
using TrackingNames = generators::Peft.Typed.Generators.TrackingNames;

namespace Peft.Typed.Generators.Tests.Incremental;

/// <summary>
/// The generator's pipeline is cacheable: an edit to C# code re-runs nothing, an edit to one config.json re-runs
/// that file only, and no step output holds a symbol, compilation or syntax node.
/// </summary>
public sealed class IncrementalCachingTests
{
    private static readonly string[] FileSteps = [TrackingNames.Requests, TrackingNames.Results, TrackingNames.Checked];

    [Fact]
    public void Unrelated_source_edit_leaves_every_step_and_output_cached()
    {
        var compilation = GeneratorHarness.Compilation(["namespace App; public static class A { }"]);
        var driver = GeneratorHarness.CreateDriver([ArchitectureInputs.TinyUnet, ArchitectureInputs.TinyClipText]).RunGenerators(compilation);
        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace App; public static class B { public static int C => 1; }", GeneratorHarness.ParseOptions));

        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (var step in FileSteps.Append(TrackingNames.Claims).Append(TrackingNames.ModelsReferenced))
        {
            Assert.All(result.TrackedSteps[step].SelectMany(s => s.Outputs), output =>
                Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {output.Reason}"));
        }
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), output =>
            Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void Editing_one_config_regenerates_only_its_class()
    {
        var unet = ArchitectureInputs.TinyUnet;
        var clip = ArchitectureInputs.TinyClipText;
        var texts = GeneratorHarness.AdditionalTexts([unet, clip]);
        var driver = GeneratorHarness.CreateDriver([unet, clip], texts).RunGenerators(GeneratorHarness.Compilation([]));
        var oldText = driver.GetRunResult().Results.Single().GeneratedSources.Single(s => s.HintName.Contains("TinyClipText")).SourceText.ToString();
        var changed = new InMemoryAdditionalText(clip.Path, clip.Text.Replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3"));

        var result = driver.ReplaceAdditionalText(texts[1], changed).RunGenerators(GeneratorHarness.Compilation([])).GetRunResult().Results.Single();

        var reasons = result.TrackedSteps[TrackingNames.Results].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.Equal(1, reasons.Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Equal(1, reasons.Count(r => r == IncrementalStepRunReason.Cached));
        var newText = result.GeneratedSources.Single(s => s.HintName.Contains("TinyClipText")).SourceText.ToString();
        Assert.NotEqual(oldText, newText);
        Assert.Contains("text_model.encoder.layers.2.self_attn.q_proj", newText);
    }

    [Fact]
    public void No_step_output_holds_a_symbol_compilation_or_syntax_node()
    {
        var driver = GeneratorHarness.CreateDriver([ArchitectureInputs.TinyUnet, ArchitectureInputs.TinyClipText])
            .RunGenerators(GeneratorHarness.Compilation(["namespace App; public static class A { }"]));
        var result = driver.GetRunResult().Results.Single();

        foreach (var step in FileSteps.Append(TrackingNames.Claims))
        {
            foreach (var output in result.TrackedSteps[step].SelectMany(s => s.Outputs)) AssertPlainData(output.Value, step, new HashSet<object>(ReferenceEqualityComparer.Instance));
        }
    }

    /// <summary>Walks an output's fields: only strings, primitives, enums, records of them and equatable arrays are allowed.</summary>
    private static void AssertPlainData(object? value, string step, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum) return;
        Assert.False(value is ISymbol or Compilation or SyntaxNode or SemanticModel or SyntaxTree, $"{step} holds a {value.GetType().Name}.");
        if (!value.GetType().IsValueType && !seen.Add(value)) return;
        if (value is IEnumerable items)
        {
            foreach (var item in items) AssertPlainData(item, step, seen);
            return;
        }
        foreach (var field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            AssertPlainData(field.GetValue(value), step, seen);
    }
}
