using System.Text.Json.Nodes;
using Peft.Typed.Architecture.Settings;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Lora;

/// <summary>
/// PEFT's <c>LoraConfig</c> (peft_type <c>LORA</c>): ΔW = scaling · B·A with scaling = lora_alpha / r, or
/// lora_alpha / √r with <see cref="UseRslora"/>. A LoRA variant (<see cref="LoraVariant"/>, e.g. DoRA with
/// <see cref="UseDora"/>) changes how the layer uses A and B.
/// </summary>
public sealed record LoraConfig : AdapterConfig
{
    private double _loraAlpha = 8;
    private double _loraDropout;
    private LoraBias _bias = LoraBias.None;
    private LoraInit _init = LoraInit.Default;
    private bool _useDora;

    /// <summary>This kind's <c>peft_type</c>.</summary>
    public const string PeftTypeName = "LORA";

    public override string PeftType => PeftTypeName;

    public override string ParameterPrefix => "lora_";

    /// <summary><c>lora_alpha</c> (default 8).</summary>
    public double LoraAlpha
    {
        get => _loraAlpha;
        init => _loraAlpha = AdapterSettings.Alpha("lora_alpha", value) is { } problem ? throw new AdapterConfigException("lora_alpha", problem) : value;
    }

    /// <summary><c>lora_dropout</c>: dropout on the LoRA branch input while training (default 0).</summary>
    public double LoraDropout
    {
        get => _loraDropout;
        init => _loraDropout = AdapterSettings.Dropout("lora_dropout", value) is { } problem ? throw new AdapterConfigException("lora_dropout", problem) : value;
    }

    /// <summary><c>bias</c>: "none" (default), "all" or "lora_only".</summary>
    public LoraBias Bias
    {
        get => _bias;
        init => _bias = Enum.IsDefined(value) ? value : throw AdapterConfigException.Invalid("bias", (int)value, "bias must be \"none\", \"all\" or \"lora_only\".");
    }

    /// <summary><c>init_lora_weights</c>: true (default), "gaussian" or false.</summary>
    public LoraInit InitLoraWeights
    {
        get => _init;
        init => _init = Enum.IsDefined(value) ? value : throw AdapterConfigException.Invalid("init_lora_weights", (int)value, "init_lora_weights must be true, false or \"gaussian\".");
    }

    /// <summary><c>use_rslora</c>: scaling = lora_alpha / √r.</summary>
    public bool UseRslora { get; init; }

    /// <summary>
    /// <c>use_dora</c>: weight-decomposed LoRA (DoRA), as the LoRA variant registered for <c>use_dora</c> implements it.
    /// Setting it where no variant is registered throws naming the field.
    /// </summary>
    public bool UseDora
    {
        get => _useDora;
        init => _useDora = !value || LoraVariant.Find(DoraField) is not null
            ? value
            : throw AdapterConfigException.Unsupported(DoraField, true, "this build registers no LoRA variant for use_dora (DoRA).");
    }

    /// <summary>The variant this config selects, or null for plain LoRA.</summary>
    public LoraVariant? Variant => UseDora ? LoraVariant.Find(DoraField) : null;

    private const string DoraField = "use_dora";

    public override double DefaultAlpha => LoraAlpha;

    /// <summary>PEFT's scaling for one module's rank and alpha.</summary>
    public double ScalingFor(int r, double alpha) => UseRslora ? alpha / Math.Sqrt(r) : alpha / r;

    /// <summary>The JSON spelling of a <see cref="LoraBias"/>.</summary>
    public static string BiasName(LoraBias bias) => bias switch
    {
        LoraBias.None => "none",
        LoraBias.All => "all",
        LoraBias.LoraOnly => "lora_only",
        _ => throw new ArgumentOutOfRangeException(nameof(bias), bias, null),
    };

    internal override AdapterConfig WithAlphaScaled(double factor) =>
        this with { LoraAlpha = LoraAlpha * factor, AlphaPattern = AlphaPatternScaled(factor) };

    /// <summary><c>bias="lora_only"</c>: the adapted layers' biases; <c>"all"</c>: every bias of the model.</summary>
    internal override IEnumerable<(string Key, Parameter Parameter)> TrainedBaseParameters(
        IReadOnlyList<AdapterLayer> adapterLayers, IReadOnlyList<(string Key, Parameter Parameter)> baseParameters) => Bias switch
    {
        LoraBias.All => baseParameters.Where(p => p.Key.Contains("bias", StringComparison.Ordinal)),
        LoraBias.LoraOnly => adapterLayers.Where(l => l.BaseBias is not null).Select(l => ($"{l.ModuleName}.base_layer.bias", l.BaseBias!)),
        _ => [],
    };

    internal override string? NotInSingleFileFormats =>
        Bias != LoraBias.None ? $"bias tensors (bias = \"{BiasName(Bias)}\")"
        : Variant is { } variant ? $"{variant.Name} tensors ({variant.ConfigField} = true)"
        : null;

    internal override AdapterLayer CreateLayer(nn.Module<Tensor, Tensor> target, string moduleName, string adapterName)
    {
        var layer = new LoraLayer(target, moduleName);
        AddToLayer(layer, moduleName, adapterName);
        return layer;
    }

    internal override void AddToLayer(AdapterLayer layer, string moduleName, string adapterName)
    {
        if (layer is not LoraLayer lora) throw new InvalidOperationException($"Module '{moduleName}' holds {layer.GetType().Name} adapters; a LoRA adapter cannot be added to it.");
        lora.UpdateLayer(adapterName, RankFor(moduleName), AlphaFor(moduleName), this);
    }

    internal static LoraConfig Read(ConfigReader reader) => new()
    {
        LoraAlpha = reader.Number("lora_alpha", 8),
        LoraDropout = reader.Number("lora_dropout", 0),
        Bias = ReadBias(reader),
        InitLoraWeights = ReadInit(reader),
        UseRslora = reader.Bool("use_rslora", false),
        UseDora = reader.Bool(DoraField, false),
    };

    private protected override void WriteKindFields(IDictionary<string, JsonNode?> fields)
    {
        fields["lora_alpha"] = ConfigReader.Number(LoraAlpha, asFloat: false);
        fields["lora_dropout"] = ConfigReader.Number(LoraDropout, asFloat: true);
        fields["bias"] = BiasName(Bias);
        fields["init_lora_weights"] = InitLoraWeights switch
        {
            LoraInit.Default => true,
            LoraInit.Random => false,
            _ => "gaussian",
        };
        fields["use_rslora"] = UseRslora;
        fields[DoraField] = UseDora;
    }

    private protected override IReadOnlyDictionary<string, JsonNode?> PassThroughDefaults() => new Dictionary<string, JsonNode?>
    {
        ["alora_invocation_tokens"] = null,
        ["arrow_config"] = null,
        ["corda_config"] = null,
        ["ensure_weight_tying"] = false,
        ["eva_config"] = null,
        ["fan_in_fan_out"] = false,
        ["layer_replication"] = null,
        ["layers_pattern"] = null,
        ["layers_to_transform"] = null,
        ["loftq_config"] = new JsonObject(),
        ["lora_bias"] = false,
        ["lora_ga_config"] = null,
        ["megatron_config"] = null,
        ["megatron_core"] = "megatron.core",
        ["monteclora_config"] = null,
        ["qalora_group_size"] = 16,
        ["target_parameters"] = null,
        ["trainable_token_indices"] = null,
        ["use_bdlora"] = null,
        ["use_qalora"] = false,
        ["velora_config"] = null,
    };

    private protected override IReadOnlyCollection<string> InertFields => ["megatron_core", "qalora_group_size"];

    private static LoraBias ReadBias(ConfigReader reader) => reader.String("bias") switch
    {
        null or "none" => LoraBias.None,
        "all" => LoraBias.All,
        "lora_only" => LoraBias.LoraOnly,
        var other => throw AdapterConfigException.Invalid("bias", other, "bias must be \"none\", \"all\" or \"lora_only\"."),
    };

    private static LoraInit ReadInit(ConfigReader reader)
    {
        var node = reader.Raw("init_lora_weights");
        return node?.GetValueKind() switch
        {
            null or System.Text.Json.JsonValueKind.True => LoraInit.Default,
            System.Text.Json.JsonValueKind.False => LoraInit.Random,
            System.Text.Json.JsonValueKind.String when node.GetValue<string>() == "gaussian" => LoraInit.Gaussian,
            System.Text.Json.JsonValueKind.String => throw AdapterConfigException.Unsupported("init_lora_weights", node.GetValue<string>(), "implemented values are true, false and \"gaussian\"."),
            _ => throw AdapterConfigException.Invalid("init_lora_weights", new AdapterConfigException.RawJson(node.ToJsonString()), "init_lora_weights must be true, false or a method name."),
        };
    }
}
