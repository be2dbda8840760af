using Microsoft.CodeAnalysis;
using Peft.Typed.Generators.Tests.Support;

namespace Peft.Typed.Generators.Tests.Diagnostics;

/// <summary>
/// The generator's diagnostics about architecture files (PT0006-PT0010, PT0012), each with its message and its
/// location in the JSON file. Edits are one token of unet-tiny/config.json (one key per line, sorted).
/// </summary>
public sealed class ArchitectureFileDiagnosticTests
{
    private const string UnetPath = "/models/tiny/unet/config.json";

    private static string UnetTiny() => ArchitectureInputs.TinyUnet.Text.Replace("\r\n", "\n");

    private static string Edit(string from, string to)
    {
        var text = UnetTiny();
        Assert.Equal(1, text.Split(from).Length - 1);
        return text.Replace(from, to);
    }

    private static (Diagnostic Diagnostic, int Sources) SingleDiagnostic(string json, string className = "TinyUnet")
    {
        var (result, _) = GeneratorHarness.Run([new ArchitectureInput(UnetPath, className, json)]);
        var run = Assert.Single(result.Results);
        return (Assert.Single(result.Diagnostics), run.GeneratedSources.Length);
    }

    [Theory]
    [InlineData("\"act_fn\": \"silu\"", "\"act_fn\": \"tanh\"", "PT0006",
        "Unsupported act_fn 'tanh'; supported: silu, swish, mish, gelu, relu.", 4, 13)]
    [InlineData("\"layers_per_block\": 2", "\"layers_per_block\": \"2\"", "PT0006",
        "'layers_per_block' must be an integer or a list of integers; found a string \"2\".", 33, 23)]
    [InlineData("\"transformer_layers_per_block\": 1", "\"transformer_layers_per_block\": [1, 1, 1]", "PT0006",
        "'transformer_layers_per_block' has 3 entries but 'down_block_types' has 2; they must have the same length.", 54, 35)]
    [InlineData("    64\n  ],\n  \"center", "    48\n  ],\n  \"center", "PT0006",
        "'block_out_channels[1]' 48 is not divisible by norm_num_groups 32 (GroupNorm needs whole groups).", 12, 5)]
    [InlineData("\"DownBlock2D\",", "\"AttnDownBlock2D\",", "PT0007",
        "Unsupported down_block_types[0] 'AttnDownBlock2D'; supported: DownBlock2D, CrossAttnDownBlock2D.", 22, 5)]
    [InlineData("\"_class_name\": \"UNet2DConditionModel\"", "\"_class_name\": \"UNet3DConditionModel\"", "PT0007",
        "Unknown _class_name 'UNet3DConditionModel'; supported: UNet2DConditionModel, AutoencoderKL.", 2, 18)]
    public void Invalid_or_unsupported_config_is_an_error_at_its_value(string from, string to, string id, string message, int line, int column)
    {
        var (diagnostic, sources) = SingleDiagnostic(Edit(from, to));

        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(message, diagnostic.GetMessage());
        Assert.Equal(UnetPath, diagnostic.Location.GetLineSpan().Path);
        Assert.Equal($"({line},{column})", GeneratorHarness.Position(diagnostic));
        Assert.Equal(0, sources);
    }

    [Fact]
    public void Malformed_json_is_an_error_at_the_offending_character()
    {
        var (diagnostic, sources) = SingleDiagnostic("{\n  \"_class_name\": \"UNet2DConditionModel\",\n}\n");

        Assert.Equal("PT0006", diagnostic.Id);
        Assert.Equal("Trailing comma before '}' is not allowed in JSON.", diagnostic.GetMessage());
        Assert.Equal("(2,40)", GeneratorHarness.Position(diagnostic));
        Assert.Equal(0, sources);
    }

    [Fact]
    public void Unknown_option_is_a_warning_and_the_class_is_still_generated()
    {
        var (diagnostic, sources) = SingleDiagnostic(Edit("\"act_fn\": \"silu\",", "\"act_fn\": \"silu\",\n  \"my_option\": 1,"));

        Assert.Equal("PT0009", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Equal("Unknown option 'my_option' for UNet2DConditionModel; diffusers 0.27.2 ignores it, and so does Peft.Typed.", diagnostic.GetMessage());
        Assert.Equal("(5,3)", GeneratorHarness.Position(diagnostic));
        Assert.Equal(1, sources);
    }

    [Fact]
    public void Two_files_claiming_one_class_are_both_errors_and_neither_is_generated()
    {
        var first = new ArchitectureInput("/models/a/unet/config.json", "SharedUnet", UnetTiny());
        var second = new ArchitectureInput("/models/b/unet/config.json", "SharedUnet", UnetTiny());

        var (result, _) = GeneratorHarness.Run([first, second]);

        Assert.Empty(Assert.Single(result.Results).GeneratedSources);
        Assert.Equal(2, result.Diagnostics.Length);
        Assert.All(result.Diagnostics, d =>
        {
            Assert.Equal("PT0008", d.Id);
            Assert.Equal("Typed class 'Peft.Typed.Generated.SharedUnet' is claimed by '/models/a/unet/config.json' and '/models/b/unet/config.json'; give each config.json its own PeftTypedClass", d.GetMessage());
        });
        Assert.Equal(["/models/a/unet/config.json", "/models/b/unet/config.json"], result.Diagnostics.Select(d => d.Location.GetLineSpan().Path).Order());
        Assert.All(result.Diagnostics, d => Assert.Equal("(1,1)", GeneratorHarness.Position(d)));
    }

    [Theory]
    [InlineData("3Unet", "PeftTypedClass '3Unet' is not a valid C# class name ('3Unet' is not an identifier)")]
    [InlineData("class", "PeftTypedClass 'class' is not a valid C# class name ('class' is not an identifier)")]
    [InlineData("My-App.Unet", "PeftTypedClass 'My-App.Unet' is not a valid C# class name (namespace part 'My-App' is not an identifier)")]
    public void Class_name_that_is_not_an_identifier_is_an_error(string className, string message)
    {
        var (diagnostic, sources) = SingleDiagnostic(UnetTiny(), className);

        Assert.Equal("PT0010", diagnostic.Id);
        Assert.Equal(message, diagnostic.GetMessage());
        Assert.Equal(UnetPath, diagnostic.Location.GetLineSpan().Path);
        Assert.Equal("(1,1)", GeneratorHarness.Position(diagnostic));
        Assert.Equal(0, sources);
    }

    [Fact]
    public void Dotted_class_name_sets_the_namespace()
    {
        var (result, output) = GeneratorHarness.Run([new ArchitectureInput(UnetPath, "MyApp.Models.TinyUnet", UnetTiny())]);

        Assert.Empty(result.Diagnostics);
        Assert.Equal("MyApp.Models.TinyUnet.g.cs", Assert.Single(Assert.Single(result.Results).GeneratedSources).HintName);
        Assert.NotNull(output.GetTypeByMetadataName("MyApp.Models.TinyUnet"));
    }

    [Fact]
    public void Missing_runtime_reference_is_one_error_instead_of_broken_code()
    {
        var (result, _) = GeneratorHarness.Run([new ArchitectureInput(UnetPath, "TinyUnet", UnetTiny())], withModels: false);

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("PT0012", diagnostic.Id);
        Assert.Equal("Typed class 'Peft.Typed.Generated.TinyUnet' derives from Peft.Typed.Models types; reference the Peft.Typed.Models package or project", diagnostic.GetMessage());
        Assert.Equal(UnetPath, diagnostic.Location.GetLineSpan().Path);
        Assert.Equal("(1,1)", GeneratorHarness.Position(diagnostic));
        Assert.Empty(Assert.Single(result.Results).GeneratedSources);
    }

    [Fact]
    public void Additional_files_without_class_metadata_are_ignored()
    {
        var texts = GeneratorHarness.AdditionalTexts([new ArchitectureInput(UnetPath, "unused", "not json at all")]);

        var result = GeneratorHarness.CreateDriver([], texts).RunGenerators(GeneratorHarness.Compilation([])).GetRunResult();

        Assert.Empty(result.Diagnostics);
        Assert.Empty(Assert.Single(result.Results).GeneratedSources);
    }
}
