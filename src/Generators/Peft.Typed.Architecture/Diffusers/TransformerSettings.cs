namespace Peft.Typed.Architecture.Diffusers;

/// <summary>What a cross-attention block passes to each of its Transformer2DModel.</summary>
internal sealed class TransformerSettings
{
    public TransformerSettings(int heads, int layers, int crossAttentionDim, int groups, bool useLinearProjection, bool onlyCrossAttention, bool? upcastAttention)
    {
        Heads = heads;
        Layers = layers;
        CrossAttentionDim = crossAttentionDim;
        Groups = groups;
        UseLinearProjection = useLinearProjection;
        OnlyCrossAttention = onlyCrossAttention;
        UpcastAttention = upcastAttention;
    }

    /// <summary>Number of heads (the UNet config's attention_head_dim); head size = channels / heads.</summary>
    public int Heads { get; }

    /// <summary>BasicTransformerBlocks per Transformer2DModel (transformer_layers_per_block).</summary>
    public int Layers { get; }

    public int CrossAttentionDim { get; }
    public int Groups { get; }
    public bool UseLinearProjection { get; }
    public bool OnlyCrossAttention { get; }
    public bool? UpcastAttention { get; }
}
