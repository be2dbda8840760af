using System.Collections.Generic;

namespace Peft.Typed.Architecture.Configs;

/// <summary>
/// <c>text_encoder/config.json</c> of a transformers <c>CLIPTextModel</c> or <c>CLIPTextModelWithProjection</c>
/// (chosen by <c>architectures</c>), with transformers' <c>CLIPTextConfig</c> defaults for missing keys.
/// Generic transformers keys (<c>torch_dtype</c>, <c>id2label</c>, ...) are accepted and not interpreted.
/// </summary>
public sealed class ClipTextConfig : ArchitectureConfig
{
    public override ArchitectureKind Kind =>
        Architectures.Count > 0 && Architectures[0] == nameof(ArchitectureKind.CLIPTextModelWithProjection)
            ? ArchitectureKind.CLIPTextModelWithProjection
            : ArchitectureKind.CLIPTextModel;

    /// <summary><c>architectures</c>: ["CLIPTextModel"] or ["CLIPTextModelWithProjection"].</summary>
    public IReadOnlyList<string> Architectures { get; set; } = new[] { "CLIPTextModel" };

    /// <summary>True for CLIPTextModelWithProjection, which adds <c>text_projection</c>.</summary>
    public bool WithProjection => Kind == ArchitectureKind.CLIPTextModelWithProjection;

    /// <summary><c>vocab_size</c>.</summary>
    public int VocabSize { get; set; } = 49408;

    /// <summary><c>hidden_size</c>.</summary>
    public int HiddenSize { get; set; } = 512;

    /// <summary><c>intermediate_size</c>: width of mlp.fc1.</summary>
    public int IntermediateSize { get; set; } = 2048;

    /// <summary><c>projection_dim</c>: output width of text_projection (WithProjection only).</summary>
    public int ProjectionDim { get; set; } = 512;

    /// <summary><c>num_hidden_layers</c>.</summary>
    public int NumHiddenLayers { get; set; } = 12;

    /// <summary><c>num_attention_heads</c>.</summary>
    public int NumAttentionHeads { get; set; } = 8;

    /// <summary><c>max_position_embeddings</c>.</summary>
    public int MaxPositionEmbeddings { get; set; } = 77;

    /// <summary><c>hidden_act</c>: "quick_gelu" (x * sigmoid(1.702 x), OpenAI CLIP) or "gelu" (exact erf, OpenCLIP / SD 2.x).</summary>
    public string HiddenAct { get; set; } = "quick_gelu";

    /// <summary><c>layer_norm_eps</c>.</summary>
    public double LayerNormEps { get; set; } = 1e-5;

    /// <summary><c>attention_dropout</c>.</summary>
    public double AttentionDropout { get; set; }

    /// <summary><c>initializer_range</c>: informational (weight init).</summary>
    public double InitializerRange { get; set; } = 0.02;

    /// <summary><c>initializer_factor</c>: informational (weight init).</summary>
    public double InitializerFactor { get; set; } = 1.0;

    /// <summary><c>pad_token_id</c>.</summary>
    public int? PadTokenId { get; set; } = 1;

    /// <summary><c>bos_token_id</c>.</summary>
    public int? BosTokenId { get; set; } = 49406;

    /// <summary>
    /// <c>eos_token_id</c>: pooling takes the first position holding this id, except for the legacy value 2
    /// (SD 1.x configs) where transformers takes argmax(input_ids).
    /// </summary>
    public int? EosTokenId { get; set; } = 49407;

    /// <summary><c>torch_dtype</c>: informational ("float32", "float16", ...), or null.</summary>
    public string? TorchDtype { get; set; }
}
