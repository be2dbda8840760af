using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>
/// diffusers <c>Transformer2DModel</c> for continuous inputs: GroupNorm, <c>proj_in</c> (a 1x1 conv before flattening to
/// [B, HW, C], or a Linear after it when use_linear_projection), the <c>transformer_blocks</c>, the mirror-image
/// <c>proj_out</c>, and the residual.
/// </summary>
public sealed class Transformer2DModel : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> norm;
    private readonly nn.Module<Tensor, Tensor> proj_in;
    private readonly ModuleList<BasicTransformerBlock> transformer_blocks;
    private readonly nn.Module<Tensor, Tensor> proj_out;

    private readonly bool _useLinearProjection;

    public Transformer2DModel(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(Transformer2DModel));
        _useLinearProjection = node.Options.GetBool("use_linear_projection");
        norm = layers.GroupNorm(node.Child("norm"));
        proj_in = Projection(node.Child("proj_in"), layers);
        transformer_blocks = nn.ModuleList(node.Child("transformer_blocks").Children.Select(b => new BasicTransformerBlock(b, layers)).ToArray());
        proj_out = Projection(node.Child("proj_out"), layers);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates, Tensor? encoderHiddenStates)
    {
        using var scope = NewDisposeScope();
        long batch = hiddenStates.shape[0], height = hiddenStates.shape[2], width = hiddenStates.shape[3];
        var x = norm.call(hiddenStates);
        if (!_useLinearProjection) x = proj_in.call(x);
        long innerDim = x.shape[1];
        x = x.permute(0, 2, 3, 1).reshape(batch, height * width, innerDim);
        if (_useLinearProjection) x = proj_in.call(x);

        foreach (var block in transformer_blocks) x = block.call(x, encoderHiddenStates);

        if (_useLinearProjection) x = proj_out.call(x);
        x = x.reshape(batch, height, width, -1).permute(0, 3, 1, 2).contiguous();
        if (!_useLinearProjection) x = proj_out.call(x);
        return x.Add(hiddenStates).MoveToOuterDisposeScope();
    }

    private nn.Module<Tensor, Tensor> Projection(ModuleNode node, LayerFactory layers) =>
        _useLinearProjection ? layers.Linear(node) : layers.Conv2d(node);
}
