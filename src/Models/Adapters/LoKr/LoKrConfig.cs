using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Typed.Architecture.Settings;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.LoKr;

/// <summary>
/// PEFT's <c>LoKrConfig</c> (peft_type <c>LOKR</c>): ΔW = kron(w1, w2) · alpha / r, with each dimension factored by
/// <see cref="LoKrFactorization.Factorize"/> and w1/w2 stored full, as low-rank products, or (w2) in Tucker form.
/// </summary>
public sealed record LoKrConfig : LycorisConfig
{
    private int _decomposeFactor = -1;
    private LoKrInit _init = LoKrInit.Default;

    /// <summary>This kind's <c>peft_type</c>.</summary>
    public const string PeftTypeName = "LOKR";

    public override string PeftType => PeftTypeName;

    public override string ParameterPrefix => "lokr_";

    /// <summary><c>rank_dropout_scale</c>: divide the rank-dropout mask by its mean.</summary>
    public bool RankDropoutScale { get; init; }

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

    internal static LoKrConfig Read(ConfigReader reader) => ReadShared(reader, new LoKrConfig
    {
        RankDropoutScale = reader.Bool("rank_dropout_scale", false),
        DecomposeBoth = reader.Bool("decompose_both", false),
        DecomposeFactor = reader.Int("decompose_factor", -1),
        InitWeights = ReadInit(reader),
    });

    private protected override void WriteKindFields(IDictionary<string, JsonNode?> fields)
    {
        base.WriteKindFields(fields);
        fields["rank_dropout_scale"] = RankDropoutScale;
        fields["decompose_both"] = DecomposeBoth;
        fields["decompose_factor"] = DecomposeFactor;
        fields["init_weights"] = InitWeights switch
        {
            LoKrInit.Default => true,
            LoKrInit.Random => false,
            _ => "lycoris",
        };
    }

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
