using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>
/// diffusers Transformer2DModel on continuous input: norm (GroupNorm, eps 1e-6), proj_in, transformer_blocks,
/// proj_out; the projections are 1x1 Conv2d, or Linear with use_linear_projection.
/// </summary>
internal static class Transformer2DModelBuilder
{
    public static ModuleNode Build(string path, int channels, TransformerSettings s)
    {
        var dimHead = channels / s.Heads;
        var innerDim = s.Heads * dimHead;
        var children = new[]
        {
            TorchLayers.GroupNorm(ModulePath.Join(path, "norm"), s.Groups, channels, 1e-6),
            Projection(ModulePath.Join(path, "proj_in"), channels, innerDim, s.UseLinearProjection),
            TorchLayers.ModuleList(ModulePath.Join(path, "transformer_blocks"), s.Layers, (blockPath, _) =>
                BasicTransformerBlockBuilder.Build(blockPath, innerDim, s.Heads, dimHead, s.CrossAttentionDim, s.OnlyCrossAttention, s.UpcastAttention)),
            Projection(ModulePath.Join(path, "proj_out"), innerDim, channels, s.UseLinearProjection),
        };
        var options = ModuleOptions.Of(
            ("use_linear_projection", s.UseLinearProjection),
            ("num_layers", s.Layers),
            ("heads", s.Heads),
            ("dim_head", dimHead));
        return TorchLayers.Module(path, "Transformer2DModel", options, children);
    }

    private static ModuleNode Projection(string path, int inDim, int outDim, bool linear) =>
        linear ? TorchLayers.Linear(path, inDim, outDim) : TorchLayers.Conv2d(path, inDim, outDim, kernelSize: 1);
}
