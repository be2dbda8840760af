using Peft.Typed.Architecture.Tree;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>
/// diffusers <c>Downsample2D</c> with a convolution: a 3x3 stride-2 <c>conv</c>. With <c>padding</c> 0 (the VAE encoder)
/// the input is first zero-padded on the right and bottom only, as diffusers does.
/// </summary>
public sealed class Downsample2D : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv;

    private readonly bool _padRightBottom;

    public Downsample2D(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(Downsample2D));
        if (!node.Options.GetBool("use_conv"))
            throw new NotSupportedException($"Module '{node.Path}': Downsample2D without a convolution (use_conv false) is not supported.");
        _padRightBottom = node.Options.GetInt("padding") == 0;
        conv = layers.Conv2d(node.Child("conv"));
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        var input = _padRightBottom ? nn.functional.pad(hiddenStates, [0, 1, 0, 1]) : hiddenStates;
        return conv.call(input).MoveToOuterDisposeScope();
    }
}
