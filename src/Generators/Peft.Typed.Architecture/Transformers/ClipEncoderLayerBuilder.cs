using System;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Tree;
using Peft.Typed.Architecture.Validation;

namespace Peft.Typed.Architecture.Transformers;

/// <summary>
/// transformers CLIPEncoderLayer: self_attn (CLIPAttention registers k_proj, v_proj, q_proj, out_proj in that
/// order), layer_norm1, mlp (CLIPMLP: activation_fn, fc1, fc2), layer_norm2.
/// </summary>
internal static class ClipEncoderLayerBuilder
{
    public static ModuleNode Build(string path, ClipTextConfig c) =>
        TorchLayers.Module(
            path,
            "CLIPEncoderLayer",
            Attention(ModulePath.Join(path, "self_attn"), c),
            TorchLayers.LayerNorm(ModulePath.Join(path, "layer_norm1"), c.HiddenSize, c.LayerNormEps),
            Mlp(ModulePath.Join(path, "mlp"), c),
            TorchLayers.LayerNorm(ModulePath.Join(path, "layer_norm2"), c.HiddenSize, c.LayerNormEps));

    private static ModuleNode Attention(string path, ClipTextConfig c)
    {
        var dim = c.HiddenSize;
        var headDim = dim / c.NumAttentionHeads;
        var options = ModuleOptions.Of(
            ("embed_dim", dim),
            ("num_heads", c.NumAttentionHeads),
            ("head_dim", headDim),
            ("scale", Math.Pow(headDim, -0.5)),
            ("dropout", c.AttentionDropout));
        return TorchLayers.Module(
            path,
            "CLIPAttention",
            options,
            new[]
            {
                TorchLayers.Linear(ModulePath.Join(path, "k_proj"), dim, dim),
                TorchLayers.Linear(ModulePath.Join(path, "v_proj"), dim, dim),
                TorchLayers.Linear(ModulePath.Join(path, "q_proj"), dim, dim),
                TorchLayers.Linear(ModulePath.Join(path, "out_proj"), dim, dim),
            });
    }

    private static ModuleNode Mlp(string path, ClipTextConfig c) =>
        TorchLayers.Module(
            path,
            "CLIPMLP",
            TorchLayers.Activation(ModulePath.Join(path, "activation_fn"), SupportedValues.ClipActivationClass(c.HiddenAct)),
            TorchLayers.Linear(ModulePath.Join(path, "fc1"), c.HiddenSize, c.IntermediateSize),
            TorchLayers.Linear(ModulePath.Join(path, "fc2"), c.IntermediateSize, c.HiddenSize));
}
