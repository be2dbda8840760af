using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>
/// diffusers BasicTransformerBlock (norm_type "layer_norm"): norm1, attn1 (self-attention, or cross-attention with
/// only_cross_attention), norm2, attn2 (cross-attention), norm3, ff. LayerNorm eps 1e-5.
/// </summary>
internal static class BasicTransformerBlockBuilder
{
    public static ModuleNode Build(string path, int dim, int heads, int dimHead, int crossAttentionDim, bool onlyCrossAttention, bool? upcastAttention) =>
        TorchLayers.Module(
            path,
            "BasicTransformerBlock",
            TorchLayers.LayerNorm(ModulePath.Join(path, "norm1"), dim, 1e-5),
            AttentionBuilder.Transformer(ModulePath.Join(path, "attn1"), dim, heads, dimHead, onlyCrossAttention ? crossAttentionDim : null, upcastAttention),
            TorchLayers.LayerNorm(ModulePath.Join(path, "norm2"), dim, 1e-5),
            AttentionBuilder.Transformer(ModulePath.Join(path, "attn2"), dim, heads, dimHead, crossAttentionDim, upcastAttention),
            TorchLayers.LayerNorm(ModulePath.Join(path, "norm3"), dim, 1e-5),
            FeedForwardBuilder.Build(ModulePath.Join(path, "ff"), dim));
}
