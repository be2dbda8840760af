using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Typed.Architecture.Settings;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.LoKr;

/// <summary>
/// PEFT's <c>LoKrConfig</c> (peft_type <c>LOKR</c>): ΔW = kron(w1, w2) · alpha / r, with each dimension factored by
/// <see cref="LoKrFactorization.Factorize"/> and w1/w2 stored full, as low-rank products, or (w2) in Tucker form.
/// </summary>
public sealed record LoKrConfig : AdapterConfig
{
    private double _alpha = 8;
    private double _rankDropout;
    private double _moduleDropout;
    private int _decomposeFactor = -1;
    private LoKrInit _init = LoKrInit.Default;

    public override PeftType PeftType => PeftType.LoKr;

    public override string ParameterPrefix => "lokr_";

    /// <summary><c>alpha</c> (default 8). PEFT ≥ 0.14 scales LoKr by alpha / r like the other kinds.</summary>
    public double Alpha
    {
        get => _alpha;
        init => _alpha = AdapterSettings.Alpha("alpha", value) is { } problem ? throw new AdapterConfigException("alpha", problem) : value;
    }

    /// <summary><c>rank_dropout</c>: while training, drops rows of ΔW with this probability.</summary>
    public double RankDropout
    {
        get => _rankDropout;
        init => _rankDropout = LycorisChecks.Probability("rank_dropout", value);
    }

    /// <summary><c>rank_dropout_scale</c>: divide the rank-dropout mask by its mean.</summary>
    public bool RankDropoutScale { get; init; }

    /// <summary><c>module_dropout</c>: while training, skips the whole adapter with this probability.</summary>
    public double ModuleDropout
    {
        get => _moduleDropout;
        init => _moduleDropout = LycorisChecks.Probability("module_dropout", value);
    }

    /// <summary><c>use_effective_conv2d</c>: Tucker form of w2 (<c>lokr_t2</c>) for convolutions with a kernel larger than 1×1.</summary>
    public bool UseEffectiveConv2d { get; init; }

    /// <summary><c>decompose_both</c>: also store w1 as a low-rank product when r is small enough.</summary>
    public bool DecomposeBoth { get; init; }

    /// <summary><c>decompose_factor</c>: -1 (factors near √dim) or a positive factor.</summary>
    public int DecomposeFactor
    {
        get => _decomposeFactor;
        init => _decomposeFactor = AdapterSettings.DecomposeFactor(value) is { } problem ? throw new AdapterConfigException("decompose_factor", problem) : value;
    }

    /// <summary><c>init_weights</c>: true (default), "lycoris" or false.</summary>
    public LoKrInit InitWeights
    {
        get => _init;
        init => _init = Enum.IsDefined(value) ? value : throw AdapterConfigException.Invalid("init_weights", (int)value, "init_weights must be true, false or \"lycoris\".");
    }

    public override double DefaultAlpha => Alpha;

    internal override AdapterLayer CreateLayer(nn.Module<Tensor, Tensor> target, string moduleName, string adapterName)
    {
        var layer = new LoKrLayer(target, moduleName);
        AddToLayer(layer, moduleName, adapterName);
        return layer;
    }

    internal override void AddToLayer(AdapterLayer layer, string moduleName, string adapterName)
    {
        if (layer is not LoKrLayer lokr) throw new InvalidOperationException($"Module '{moduleName}' holds {layer.GetType().Name} adapters; a LoKr adapter cannot be added to it.");
        lokr.UpdateLayer(adapterName, RankFor(moduleName), AlphaFor(moduleName), this);
    }

    internal static LoKrConfig Read(ConfigReader reader) => new()
    {
        Alpha = reader.Number("alpha", 8),
        RankDropout = reader.Number("rank_dropout", 0),
        RankDropoutScale = reader.Bool("rank_dropout_scale", false),
        ModuleDropout = reader.Number("module_dropout", 0),
        UseEffectiveConv2d = reader.Bool("use_effective_conv2d", false),
        DecomposeBoth = reader.Bool("decompose_both", false),
        DecomposeFactor = reader.Int("decompose_factor", -1),
        InitWeights = ReadInit(reader),
    };

    private protected override void WriteKindFields(IDictionary<string, JsonNode?> fields)
    {
        fields["alpha"] = ConfigReader.Number(Alpha, asFloat: false);
        fields["rank_dropout"] = ConfigReader.Number(RankDropout, asFloat: true);
        fields["rank_dropout_scale"] = RankDropoutScale;
        fields["module_dropout"] = ConfigReader.Number(ModuleDropout, asFloat: true);
        fields["use_effective_conv2d"] = UseEffectiveConv2d;
        fields["decompose_both"] = DecomposeBoth;
        fields["decompose_factor"] = DecomposeFactor;
        fields["init_weights"] = InitWeights switch
        {
            LoKrInit.Default => true,
            LoKrInit.Random => false,
            _ => "lycoris",
        };
    }

    private protected override IReadOnlyDictionary<string, JsonNode?> PassThroughDefaults() => LycorisChecks.PassThroughDefaults;

    private static LoKrInit ReadInit(ConfigReader reader)
    {
        var node = reader.Raw("init_weights");
        return node?.GetValueKind() switch
        {
            null or JsonValueKind.True => LoKrInit.Default,
            JsonValueKind.False => LoKrInit.Random,
            JsonValueKind.String when node.GetValue<string>() == "lycoris" => LoKrInit.Lycoris,
            _ => throw AdapterConfigException.Invalid("init_weights", new AdapterConfigException.RawJson(node.ToJsonString()), "init_weights must be true, false or \"lycoris\"."),
        };
    }
}
