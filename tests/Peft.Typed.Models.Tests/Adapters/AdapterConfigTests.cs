using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.LoHa;
using Peft.Typed.Models.Adapters.LoKr;
using Peft.Typed.Models.Adapters.Lora;

namespace Peft.Typed.Models.Tests.Adapters;

/// <summary>Invalid config values fail with the PEFT field name and the value, in code and in files.</summary>
public sealed class AdapterConfigTests
{
    [Fact]
    public void Invalid_values_set_in_code_name_the_field_and_value()
    {
        AssertInvalid("r", "Invalid value for 'r': 0. r must be a positive integer.", () => new LoraConfig { R = 0 });
        AssertInvalid("r", "Invalid value for 'r': -2. r must be a positive integer.", () => new LoHaConfig { R = -2 });
        AssertInvalid("decompose_factor", "Invalid value for 'decompose_factor': 0. decompose_factor must be -1 or a positive integer.", () => new LoKrConfig { DecomposeFactor = 0 });
        AssertInvalid("decompose_factor", "Invalid value for 'decompose_factor': -3. decompose_factor must be -1 or a positive integer.", () => new LoKrConfig { DecomposeFactor = -3 });
        AssertInvalid("lora_dropout", "Invalid value for 'lora_dropout': 1.5. lora_dropout must be between 0 and 1.", () => new LoraConfig { LoraDropout = 1.5 });
        AssertInvalid("rank_dropout", "Invalid value for 'rank_dropout': -0.1. rank_dropout must be between 0 and 1.", () => new LoKrConfig { RankDropout = -0.1 });
        AssertInvalid("module_dropout", "Invalid value for 'module_dropout': 2. module_dropout must be between 0 and 1.", () => new LoHaConfig { ModuleDropout = 2 });
        AssertInvalid("bias", "Invalid value for 'bias': 7. bias must be \"none\", \"all\" or \"lora_only\".", () => new LoraConfig { Bias = (LoraBias)7 });
        AssertInvalid("rank_pattern", "Invalid value for 'rank_pattern': {\"fc1\": 0}. Every rank in rank_pattern must be a positive integer.",
            () => new LoraConfig { RankPattern = [new("fc1", 0)] });
        AssertInvalid("lora_alpha", "Invalid value for 'lora_alpha': NaN. lora_alpha must be a positive finite number.", () => new LoraConfig { LoraAlpha = double.NaN });
    }

    [Fact]
    public void Invalid_values_in_a_file_name_the_file_field_and_value()
    {
        var file = Path.Combine(Path.GetTempPath(), "adapter_config.json");
        AssertInvalid("bias", $"{file}: Invalid value for 'bias': \"sometimes\". bias must be \"none\", \"all\" or \"lora_only\".",
            () => AdapterConfig.FromJson("""{"peft_type": "LORA", "r": 4, "bias": "sometimes"}""", file));
        AssertInvalid("r", $"{file}: Invalid value for 'r': 0. r must be a positive integer.",
            () => AdapterConfig.FromJson("""{"peft_type": "LOHA", "r": 0}""", file));
        AssertInvalid("r", $"{file}: Invalid value for 'r': \"8\". r must be an integer.",
            () => AdapterConfig.FromJson("""{"peft_type": "LOHA", "r": "8"}""", file));
        AssertInvalid("decompose_factor", $"{file}: Invalid value for 'decompose_factor': 0. decompose_factor must be -1 or a positive integer.",
            () => AdapterConfig.FromJson("""{"peft_type": "LOKR", "decompose_factor": 0}""", file));
        AssertInvalid("init_weights", $"{file}: Invalid value for 'init_weights': \"pissa\". init_weights must be true, false or \"lycoris\".",
            () => AdapterConfig.FromJson("""{"peft_type": "LOKR", "init_weights": "pissa"}""", file));
        AssertInvalid("peft_type", $"{file}: 'peft_type' = \"IA3\" is not supported: this library reads LOHA, LOKR and LORA adapters.",
            () => AdapterConfig.FromJson("""{"peft_type": "IA3"}""", file));
        AssertInvalid("init_lora_weights", $"{file}: 'init_lora_weights' = \"pissa\" is not supported: implemented values are true, false and \"gaussian\".",
            () => AdapterConfig.FromJson("""{"peft_type": "LORA", "init_lora_weights": "pissa"}""", file));
        AssertInvalid("layers_to_transform", $"{file}: 'layers_to_transform' = [0,1] is not supported: this library implements plain LOHA as in PEFT 0.20.0; set it to null.",
            () => AdapterConfig.FromJson("""{"peft_type": "LOHA", "layers_to_transform": [0, 1]}""", file));
        AssertInvalid("frobnicate", $"{file}: 'frobnicate' = 3 is not supported: unknown LOKR field (PEFT 0.20.0 has no such option).",
            () => AdapterConfig.FromJson("""{"peft_type": "LOKR", "frobnicate": 3}""", file));
        AssertInvalid("target_modules", $"{file}: Invalid value for 'target_modules': \"to_(q\". 'to_(q' is not a valid regular expression",
            () => AdapterConfig.FromJson("""{"peft_type": "LORA", "target_modules": "to_(q"}""", file), prefixOnly: true);
        AssertInvalid("peft_type", $"{file}: The adapter config is not valid JSON:", () => AdapterConfig.FromJson("{\"peft_type\": ", file), prefixOnly: true);
    }

    [Fact]
    public void Options_that_are_off_or_newer_fields_set_to_null_are_accepted_and_kept()
    {
        var config = AdapterConfig.FromJson("""
            {"peft_type": "LORA", "r": 2, "target_modules": "all-linear", "use_dora": false, "qalora_group_size": 32,
             "some_future_option": null, "rank_pattern": {"fc1": 4}, "alpha_pattern": {"fc2": 0.5}, "init_lora_weights": "gaussian"}
            """);
        var lora = Assert.IsType<LoraConfig>(config);
        Assert.Equal(TargetModulesKind.AllLinear, lora.TargetModules!.Kind);
        Assert.Equal(LoraInit.Gaussian, lora.InitLoraWeights);
        Assert.Equal(4, lora.RankFor("text_encoder.layers.0.mlp.fc1"));
        Assert.Equal(2, lora.RankFor("text_encoder.layers.0.mlp.fc2"));
        Assert.Equal(0.5, lora.AlphaFor("text_encoder.layers.0.mlp.fc2"));
        var written = config.ToJson();
        Assert.Contains("\"qalora_group_size\": 32", written);
        Assert.Contains("\"some_future_option\": null", written);
        Assert.Contains("\"alpha_pattern\": {\n    \"fc2\": 0.5\n  }", written.Replace("\r\n", "\n"));
    }

    [Fact]
    public void Scaling_follows_peft_for_plain_and_rank_stabilised_lora()
    {
        Assert.Equal(2.0, new LoraConfig().ScalingFor(4, 8));
        Assert.Equal(4.0, new LoraConfig { UseRslora = true }.ScalingFor(4, 8));
        Assert.Equal(16 / Math.Sqrt(8), new LoraConfig { UseRslora = true }.ScalingFor(8, 16), 1e-15);
    }

    [Theory]
    [InlineData(72, -1, 8, 9)]
    [InlineData(37, -1, 1, 37)]
    [InlineData(256, -1, 16, 16)]
    [InlineData(256, 4, 4, 64)]
    [InlineData(128, -1, 8, 16)]
    [InlineData(127, -1, 1, 127)]
    [InlineData(128, 4, 4, 32)]
    [InlineData(24, 5, 4, 6)]
    [InlineData(320, -1, 16, 20)]
    [InlineData(768, 8, 8, 96)]
    public void LoKr_factorisation_matches_peft(int dimension, int factor, int m, int n) =>
        Assert.Equal((m, n), LoKrFactorization.Factorize(dimension, factor));

    private static void AssertInvalid(string field, string message, Func<object> action, bool prefixOnly = false)
    {
        var error = Assert.Throws<AdapterConfigException>(action);
        Assert.Equal(field, error.Field);
        Assert.Equal(field, error.ParamName);
        if (prefixOnly) Assert.StartsWith(message, error.Message);
        else Assert.Equal(message, error.Message);
    }
}
