using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Diagnostics;
using Peft.Typed.Architecture.Diffusers;
using Peft.Typed.Testing;

namespace Peft.Typed.Architecture.Tests.Errors;

/// <summary>
/// Errors in a config are reported with the option, the value, the file, line and column; line numbers refer to
/// the fixture unet-tiny/config.json (one key per line, sorted) after a one-token edit.
/// </summary>
public sealed class ConfigErrorTests
{
    private const string UnetPath = "models/tiny/unet/config.json";

    private static string UnetTiny() => File.ReadAllText(Fixtures.PathOf("unet-tiny", "config.json")).Replace("\r\n", "\n");

    private static string Edit(string text, string from, string to)
    {
        Assert.Equal(1, text.Split(from).Length - 1);
        return text.Replace(from, to);
    }

    private static ArchitectureDiagnostic SingleError(string json, string path = UnetPath)
    {
        var result = ArchitectureDescription.ParseWithDiagnostics(json, path);
        Assert.Null(result.Description);
        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.FilePath);
        return error;
    }

    [Theory]
    [InlineData("\"DownBlock2D\",", "\"AttnDownBlock2D\",", ArchitectureDiagnosticCode.UnknownBlockType,
        "Unsupported down_block_types[0] 'AttnDownBlock2D'; supported: DownBlock2D, CrossAttnDownBlock2D.", 22, 5)]
    [InlineData("\"mid_block_type\": \"UNetMidBlock2DCrossAttn\"", "\"mid_block_type\": null", ArchitectureDiagnosticCode.UnknownBlockType,
        "Unsupported mid_block_type null; supported: UNetMidBlock2DCrossAttn.", 36, 21)]
    [InlineData("\"act_fn\": \"silu\"", "\"act_fn\": \"tanh\"", ArchitectureDiagnosticCode.UnsupportedOptionValue,
        "Unsupported act_fn 'tanh'; supported: silu, swish, mish, gelu, relu.", 4, 13)]
    [InlineData("\"resnet_time_scale_shift\": \"default\"", "\"resnet_time_scale_shift\": \"scale_shift\"", ArchitectureDiagnosticCode.UnsupportedOptionValue,
        "Unsupported resnet_time_scale_shift 'scale_shift'; only 'default' is supported.", 46, 30)]
    [InlineData("\"class_embed_type\": null", "\"class_embed_type\": \"timestep\"", ArchitectureDiagnosticCode.UnsupportedOptionValue,
        "Unsupported class_embed_type 'timestep'; only null is supported.", 15, 23)]
    [InlineData("\"dual_cross_attention\": false", "\"dual_cross_attention\": true", ArchitectureDiagnosticCode.UnsupportedOptionValue,
        "Unsupported dual_cross_attention true; only false is supported.", 27, 27)]
    [InlineData("\"addition_embed_type\": null", "\"addition_embed_type\": \"text\"", ArchitectureDiagnosticCode.UnsupportedOptionValue,
        "Unsupported addition_embed_type 'text'; supported: null, 'text_time'.", 5, 26)]
    [InlineData("\"num_attention_heads\": null", "\"num_attention_heads\": 8", ArchitectureDiagnosticCode.UnsupportedOptionValue,
        "Unsupported num_attention_heads 8: diffusers 0.27.2 rejects it for UNet2DConditionModel (diffusers#2011); set attention_head_dim, which diffusers reads as the number of heads.", 39, 26)]
    [InlineData("\"block_out_channels\": [\n    32,", "\"block_out_channels\": [\n    32,\n    32,", ArchitectureDiagnosticCode.ListLengthMismatch,
        "'block_out_channels' has 3 entries but 'down_block_types' has 2; they must have the same length.", 10, 25)]
    [InlineData("\"transformer_layers_per_block\": 1", "\"transformer_layers_per_block\": [1, 1, 1]", ArchitectureDiagnosticCode.ListLengthMismatch,
        "'transformer_layers_per_block' has 3 entries but 'down_block_types' has 2; they must have the same length.", 54, 35)]
    [InlineData("\"layers_per_block\": 2", "\"layers_per_block\": \"2\"", ArchitectureDiagnosticCode.InvalidOptionType,
        "'layers_per_block' must be an integer or a list of integers; found a string \"2\".", 33, 23)]
    [InlineData("\"layers_per_block\": 2", "\"layers_per_block\": 0", ArchitectureDiagnosticCode.InvalidOptionValue,
        "'layers_per_block' must be at least 1; found 0.", 33, 23)]
    [InlineData("    64\n  ],\n  \"center", "    48\n  ],\n  \"center", ArchitectureDiagnosticCode.InvalidOptionValue,
        "'block_out_channels[1]' 48 is not divisible by norm_num_groups 32 (GroupNorm needs whole groups).", 12, 5)]
    [InlineData("\"_class_name\": \"UNet2DConditionModel\"", "\"_class_name\": \"UNet3DConditionModel\"", ArchitectureDiagnosticCode.UnknownModelClass,
        "Unknown _class_name 'UNet3DConditionModel'; supported: UNet2DConditionModel, AutoencoderKL.", 2, 18)]
    public void Unet_config_error_names_option_value_and_location(string from, string to, ArchitectureDiagnosticCode code, string message, int line, int column)
    {
        var error = SingleError(Edit(UnetTiny(), from, to));

        Assert.Equal(code, error.Code);
        Assert.Equal(message, error.Message);
        Assert.Equal((line, column), (error.Line, error.Column));
    }

    [Fact]
    public void Exception_message_is_path_line_column_error_message()
    {
        var exception = Assert.Throws<ArchitectureException>(() => ArchitectureDescription.Parse(Edit(UnetTiny(), "\"silu\"", "\"tanh\""), UnetPath));

        Assert.Equal("models/tiny/unet/config.json(4,13): error: Unsupported act_fn 'tanh'; supported: silu, swish, mish, gelu, relu.", exception.Message);
    }

    [Fact]
    public void Every_error_is_collected_in_file_order_of_the_checks()
    {
        var json = Edit(Edit(Edit(UnetTiny(), "\"silu\"", "\"tanh\""), "\"class_embed_type\": null", "\"class_embed_type\": \"timestep\""), "\"DownBlock2D\",", "\"SkipDownBlock2D\",");

        var result = ArchitectureDescription.ParseWithDiagnostics(json, UnetPath);

        Assert.False(result.Success);
        Assert.Equal(
            [
                "models/tiny/unet/config.json(22,5): error: Unsupported down_block_types[0] 'SkipDownBlock2D'; supported: DownBlock2D, CrossAttnDownBlock2D.",
                "models/tiny/unet/config.json(4,13): error: Unsupported act_fn 'tanh'; supported: silu, swish, mish, gelu, relu.",
                "models/tiny/unet/config.json(15,23): error: Unsupported class_embed_type 'timestep'; only null is supported.",
            ],
            result.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void Type_errors_in_list_items_point_at_the_item()
    {
        var error = SingleError(Edit(UnetTiny(), "    32,\n    64", "    32,\n    true"));

        Assert.Equal("'block_out_channels[1]' must be an integer; found true.", error.Message);
        Assert.Equal((12, 5), (error.Line, error.Column));
    }

    [Fact]
    public void Text_time_without_its_dimensions_is_reported_at_the_missing_values()
    {
        var json = Edit(UnetTiny(), "\"addition_embed_type\": null", "\"addition_embed_type\": \"text_time\"");

        var errors = ArchitectureDescription.ParseWithDiagnostics(json, UnetPath).Errors.Select(e => $"({e.Line},{e.Column}) {e.Message}");

        Assert.Equal(
            [
                "(7,30) addition_embed_type 'text_time' needs addition_time_embed_dim (an integer); found null.",
                "(43,44) addition_embed_type 'text_time' needs projection_class_embeddings_input_dim (an integer); found null.",
            ],
            errors);
    }

    [Fact]
    public void Unknown_keys_are_warnings_and_do_not_stop_parsing()
    {
        var json = Edit(UnetTiny(), "\"act_fn\": \"silu\",", "\"act_fn\": \"silu\",\n  \"mid_block_add_attention\": false,");

        var description = ArchitectureDescription.Parse(json, UnetPath);

        var warning = Assert.Single(description.Warnings);
        Assert.Equal(ArchitectureSeverity.Warning, warning.Severity);
        Assert.Equal(ArchitectureDiagnosticCode.UnknownOption, warning.Code);
        Assert.Equal("models/tiny/unet/config.json(5,3): warning: Unknown option 'mid_block_add_attention' for UNet2DConditionModel; diffusers 0.27.2 ignores it, and so does Peft.Typed.", warning.ToString());
    }

    [Fact]
    public void Vae_list_length_mismatch_and_unknown_block_are_located()
    {
        var vae = File.ReadAllText(Fixtures.PathOf("vae-tiny", "config.json")).Replace("\r\n", "\n");
        var json = Edit(Edit(vae, "\"UpDecoderBlock2D\",\n    \"UpDecoderBlock2D\"", "\"UpDecoderBlock2D\""), "\"DownEncoderBlock2D\",", "\"AttnDownEncoderBlock2D\",");

        var errors = ArchitectureDescription.ParseWithDiagnostics(json, "vae/config.json").Errors.Select(e => $"({e.Line},{e.Column}) {e.Message}");

        Assert.Equal(
            [
                "(10,5) Unsupported down_block_types[0] 'AttnDownEncoderBlock2D'; supported: DownEncoderBlock2D.",
                "(23,21) 'up_block_types' has 1 entries but 'down_block_types' has 2; they must have the same length.",
            ],
            errors);
    }

    [Theory]
    [InlineData("{\"in_channels\": 4}", ArchitectureDiagnosticCode.UnknownModelClass,
        "Cannot tell which model this config describes: it has neither \"_class_name\" (diffusers) nor \"architectures\" (transformers).", 1, 1)]
    [InlineData("[1]", ArchitectureDiagnosticCode.MalformedJson, "Expected a JSON object at the top level of a model config; found an array.", 1, 1)]
    [InlineData("{\"_class_name\": 5}", ArchitectureDiagnosticCode.UnknownModelClass, "Unknown _class_name the number 5; supported: UNet2DConditionModel, AutoencoderKL.", 1, 17)]
    [InlineData("{\"architectures\": [\"CLIPVisionModel\"]}", ArchitectureDiagnosticCode.UnknownModelClass,
        "Unsupported architectures[0] 'CLIPVisionModel'; supported: CLIPTextModel, CLIPTextModelWithProjection.", 1, 20)]
    [InlineData("{\"architectures\": [\"CLIPTextModel\", \"CLIPTextModelWithProjection\"]}", ArchitectureDiagnosticCode.UnknownModelClass,
        "'architectures' must name exactly one class (CLIPTextModel, CLIPTextModelWithProjection); found 2.", 1, 19)]
    [InlineData("{\"architectures\": [\"CLIPTextModel\"],\n \"hidden_act\": \"gelu_new\"}", ArchitectureDiagnosticCode.UnsupportedOptionValue,
        "Unsupported hidden_act 'gelu_new'; supported: quick_gelu, gelu.", 2, 16)]
    [InlineData("{\"architectures\": [\"CLIPTextModel\"], \"hidden_size\": 30, \"num_attention_heads\": 4}", ArchitectureDiagnosticCode.InvalidOptionValue,
        "'hidden_size' 30 is not divisible by num_attention_heads 4 (transformers requires whole heads).", 1, 53)]
    [InlineData("{\"_class_name\": \"AutoencoderKL\", \"layers_per_block\": [2]}", ArchitectureDiagnosticCode.InvalidOptionType,
        "'layers_per_block' must be an integer; found an array.", 1, 54)]
    public void Model_recognition_and_clip_errors_are_located(string json, ArchitectureDiagnosticCode code, string message, int line, int column)
    {
        var error = SingleError(json, "text_encoder/config.json");

        Assert.Equal(code, error.Code);
        Assert.Equal(message, error.Message);
        Assert.Equal((line, column), (error.Line, error.Column));
    }

    [Fact]
    public void Malformed_json_reaches_the_caller_as_a_located_diagnostic()
    {
        var error = SingleError(Edit(UnetTiny(), "\"act_fn\": \"silu\",", "\"act_fn\": \"silu\""));

        Assert.Equal(ArchitectureDiagnosticCode.MalformedJson, error.Code);
        Assert.Equal("Expected ',' or '}' after the value of \"act_fn\", found '\"'.", error.Message);
        Assert.Equal((5, 3), (error.Line, error.Column));
    }

    [Fact]
    public void Parse_of_the_wrong_model_kind_names_both_classes()
    {
        var error = Assert.Throws<ArchitectureException>(() => ArchitectureDescription.Parse<AutoencoderKLConfig>(UnetTiny(), UnetPath)).First;

        Assert.Equal("The file describes UNet2DConditionModel, but AutoencoderKL is expected here.", error.Message);
        Assert.Equal((2, 18), (error.Line, error.Column));
    }

    [Fact]
    public void Config_built_in_code_is_checked_when_building_without_a_location()
    {
        var config = new UNet2DConditionConfig { ActFn = "tanh", BlockOutChannels = [320, 640, 1280] };

        var exception = Assert.Throws<ArchitectureException>(() => UNet2DConditionArchitecture.Build(config));

        Assert.Equal(
            "error: 'block_out_channels' has 3 entries but 'down_block_types' has 4; they must have the same length." + "\n" +
            "error: Unsupported act_fn 'tanh'; supported: silu, swish, mish, gelu, relu.",
            exception.Message);
        Assert.All(exception.Diagnostics, d => Assert.False(d.Span.IsKnown));
    }
}
