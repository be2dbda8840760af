using System.Text.Json.Nodes;
using Peft.Typed.Architecture.Settings;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.LoHa;

/// <summary>
/// PEFT's <c>LoHaConfig</c> (peft_type <c>LOHA</c>): ΔW = (w1_a·w1_b) ⊙ (w2_a·w2_b) · alpha / r, or the Tucker
/// ("effective conv2d", <c>hada_t1</c>/<c>hada_t2</c>) form for k×k convolutions. Rank dropout rescales by the kept fraction.
/// </summary>
public sealed record LoHaConfig : LycorisConfig
{
    /// <summary>This kind's <c>peft_type</c>.</summary>
    public const string PeftTypeName = "LOHA";

    public override string PeftType => PeftTypeName;

    public override string ParameterPrefix => "hada_";

    /// <summary><c>init_weights</c>: true zeroes <c>hada_w2_b</c> (no-op start); false makes every factor random.</summary>
    public bool InitWeights { get; init; } = true;

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

    internal static LoHaConfig Read(ConfigReader reader) => ReadShared(reader, new LoHaConfig { InitWeights = reader.Bool("init_weights", true) });

    private protected override void WriteKindFields(IDictionary<string, JsonNode?> fields)
    {
        base.WriteKindFields(fields);
        fields["init_weights"] = InitWeights;
    }
}
