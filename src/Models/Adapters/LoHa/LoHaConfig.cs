using System.Text.Json.Nodes;
using Peft.Typed.Architecture.Settings;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.LoHa;

/// <summary>
/// PEFT's <c>LoHaConfig</c> (peft_type <c>LOHA</c>): ΔW = (w1_a·w1_b) ⊙ (w2_a·w2_b) · alpha / r, or the Tucker
/// ("effective conv2d") form for k×k convolutions.
/// </summary>
public sealed record LoHaConfig : AdapterConfig
{
    private double _alpha = 8;
    private double _rankDropout;
    private double _moduleDropout;

    public override PeftType PeftType => PeftType.LoHa;

    public override string ParameterPrefix => "hada_";

    /// <summary><c>alpha</c> (default 8).</summary>
    public double Alpha
    {
        get => _alpha;
        init => _alpha = AdapterSettings.Alpha("alpha", value) is { } problem ? throw new AdapterConfigException("alpha", problem) : value;
    }

    /// <summary><c>rank_dropout</c>: while training, drops rows of ΔW with this probability (rescaled by the kept fraction).</summary>
    public double RankDropout
    {
        get => _rankDropout;
        init => _rankDropout = LycorisChecks.Probability("rank_dropout", value);
    }

    /// <summary><c>module_dropout</c>: while training, skips the whole adapter with this probability.</summary>
    public double ModuleDropout
    {
        get => _moduleDropout;
        init => _moduleDropout = LycorisChecks.Probability("module_dropout", value);
    }

    /// <summary><c>use_effective_conv2d</c>: Tucker form (<c>hada_t1</c>/<c>hada_t2</c>) for convolutions with a kernel larger than 1×1.</summary>
    public bool UseEffectiveConv2d { get; init; }

    /// <summary><c>init_weights</c>: true zeroes <c>hada_w2_b</c> (no-op start); false makes every factor random.</summary>
    public bool InitWeights { get; init; } = true;

    public override double DefaultAlpha => Alpha;

    internal override AdapterLayer CreateLayer(nn.Module<Tensor, Tensor> target, string moduleName, string adapterName)
    {
        var layer = new LoHaLayer(target, moduleName);
        AddToLayer(layer, moduleName, adapterName);
        return layer;
    }

    internal override void AddToLayer(AdapterLayer layer, string moduleName, string adapterName)
    {
        if (layer is not LoHaLayer loha) throw new InvalidOperationException($"Module '{moduleName}' holds {layer.GetType().Name} adapters; a LoHa adapter cannot be added to it.");
        loha.UpdateLayer(adapterName, RankFor(moduleName), AlphaFor(moduleName), this);
    }

    internal static LoHaConfig Read(ConfigReader reader) => new()
    {
        Alpha = reader.Number("alpha", 8),
        RankDropout = reader.Number("rank_dropout", 0),
        ModuleDropout = reader.Number("module_dropout", 0),
        UseEffectiveConv2d = reader.Bool("use_effective_conv2d", false),
        InitWeights = reader.Bool("init_weights", true),
    };

    private protected override void WriteKindFields(IDictionary<string, JsonNode?> fields)
    {
        fields["alpha"] = ConfigReader.Number(Alpha, asFloat: false);
        fields["rank_dropout"] = ConfigReader.Number(RankDropout, asFloat: true);
        fields["module_dropout"] = ConfigReader.Number(ModuleDropout, asFloat: true);
        fields["use_effective_conv2d"] = UseEffectiveConv2d;
        fields["init_weights"] = InitWeights;
    }

    private protected override IReadOnlyDictionary<string, JsonNode?> PassThroughDefaults() => LycorisChecks.PassThroughDefaults;
}
