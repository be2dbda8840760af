using System;
using System.Collections.Generic;
using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>
/// diffusers Attention (attention_processor.py): optional group_norm, to_q, to_k, to_v (inputs of width
/// cross_attention_dim for cross-attention), to_out = [Linear with bias, Dropout]. scale = dim_head^-0.5.
/// </summary>
internal static class AttentionBuilder
{
    /// <summary>The self/cross attention of a BasicTransformerBlock: no q/k/v bias, no group norm, no residual.</summary>
    public static ModuleNode Transformer(string path, int queryDim, int heads, int dimHead, int? crossAttentionDim, bool? upcastAttention) =>
        Build(path, queryDim, heads, dimHead, crossAttentionDim, bias: false, upcastAttention, upcastSoftmax: false,
            residualConnection: false, rescaleOutputFactor: 1.0, groupNormGroups: null, eps: 1e-5);

    /// <summary>The VAE mid-block attention: biased q/k/v, its own GroupNorm, residual inside, softmax upcast.</summary>
    public static ModuleNode Vae(string path, int channels, int heads, int dimHead, int groups, double eps, double rescaleOutputFactor) =>
        Build(path, channels, heads, dimHead, crossAttentionDim: null, bias: true, upcastAttention: false, upcastSoftmax: true,
            residualConnection: true, rescaleOutputFactor, groups, eps);

    private static ModuleNode Build(
        string path, int queryDim, int heads, int dimHead, int? crossAttentionDim, bool bias, bool? upcastAttention,
        bool upcastSoftmax, bool residualConnection, double rescaleOutputFactor, int? groupNormGroups, double eps)
    {
        var innerDim = heads * dimHead;
        var keyDim = crossAttentionDim ?? queryDim;
        var children = new List<ModuleNode>(5);
        if (groupNormGroups is int groups) children.Add(TorchLayers.GroupNorm(ModulePath.Join(path, "group_norm"), groups, queryDim, eps));
        children.Add(TorchLayers.Linear(ModulePath.Join(path, "to_q"), queryDim, innerDim, bias));
        children.Add(TorchLayers.Linear(ModulePath.Join(path, "to_k"), keyDim, innerDim, bias));
        children.Add(TorchLayers.Linear(ModulePath.Join(path, "to_v"), keyDim, innerDim, bias));
        children.Add(TorchLayers.ModuleList(ModulePath.Join(path, "to_out"), 2, (itemPath, i) =>
            i == 0 ? TorchLayers.Linear(itemPath, innerDim, queryDim) : TorchLayers.Dropout(itemPath, 0.0)));

        var options = ModuleOptions.Of(
            ("heads", heads),
            ("dim_head", dimHead),
            ("inner_dim", innerDim),
            ("scale", Math.Pow(dimHead, -0.5)),
            ("is_cross_attention", crossAttentionDim is not null),
            ("upcast_attention", upcastAttention),
            ("upcast_softmax", upcastSoftmax),
            ("residual_connection", residualConnection),
            ("rescale_output_factor", rescaleOutputFactor),
            ("has_group_norm", groupNormGroups is not null));
        return TorchLayers.Module(path, "Attention", options, children);
    }
}
