using Peft.Typed.Architecture.Settings;
using System.Text.Json.Nodes;

namespace Peft.Typed.Models.Adapters;

/// <summary>
/// PEFT's <c>LycorisConfig</c> (<c>tuners/lycoris_utils.py</c>): what LoHa and LoKr share besides the common fields
/// (rank, patterns, exclude_modules): <c>alpha</c>, <c>rank_dropout</c>, <c>module_dropout</c> and
/// <c>use_effective_conv2d</c>.
/// </summary>
public abstract record LycorisConfig : AdapterConfig
{
    private double _alpha = 8;
    private double _rankDropout;
    private double _moduleDropout;

    /// <summary><c>alpha</c> (default 8): scaling = alpha / r.</summary>
    public double Alpha
    {
        get => _alpha;
        init => _alpha = AdapterSettings.Alpha("alpha", value) is { } problem ? throw new AdapterConfigException("alpha", problem) : value;
    }

    /// <summary><c>rank_dropout</c>: while training, drops rows of ΔW with this probability.</summary>
    public double RankDropout
    {
        get => _rankDropout;
        init => _rankDropout = Probability("rank_dropout", value);
    }

    /// <summary><c>module_dropout</c>: while training, skips the whole adapter with this probability.</summary>
    public double ModuleDropout
    {
        get => _moduleDropout;
        init => _moduleDropout = Probability("module_dropout", value);
    }

    /// <summary><c>use_effective_conv2d</c>: the Tucker form for convolutions with a kernel larger than 1×1.</summary>
    public bool UseEffectiveConv2d { get; init; }

    public override double DefaultAlpha => Alpha;

    internal override AdapterConfig WithAlphaScaled(double factor) => this with { Alpha = Alpha * factor, AlphaPattern = AlphaPatternScaled(factor) };

    /// <summary>Reads the shared LyCORIS fields into <paramref name="config"/> (a kind's freshly read config).</summary>
    private protected static T ReadShared<T>(ConfigReader reader, T config) where T : LycorisConfig => config with
    {
        Alpha = reader.Number("alpha", 8),
        RankDropout = reader.Number("rank_dropout", 0),
        ModuleDropout = reader.Number("module_dropout", 0),
        UseEffectiveConv2d = reader.Bool("use_effective_conv2d", false),
    };

    private protected override void WriteKindFields(IDictionary<string, JsonNode?> fields)
    {
        fields["alpha"] = ConfigReader.Number(Alpha, asFloat: false);
        fields["rank_dropout"] = ConfigReader.Number(RankDropout, asFloat: true);
        fields["module_dropout"] = ConfigReader.Number(ModuleDropout, asFloat: true);
        fields["use_effective_conv2d"] = UseEffectiveConv2d;
    }

    /// <summary>PEFT fields LoHa/LoKr share that this library does not implement, with the value they must keep.</summary>
    private protected override IReadOnlyDictionary<string, JsonNode?> PassThroughDefaults() => new Dictionary<string, JsonNode?>
    {
        ["layers_pattern"] = null,
        ["layers_to_transform"] = null,
    };

    private static double Probability(string field, double value) =>
        AdapterSettings.Dropout(field, value) is { } problem ? throw new AdapterConfigException(field, problem) : value;
}
