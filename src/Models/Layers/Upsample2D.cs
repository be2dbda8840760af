using Peft.Typed.Architecture.Tree;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>
/// diffusers <c>Upsample2D</c>: legacy nearest-neighbour interpolation by 2 (or to <c>outputSize</c> [height, width], which the
/// UNet passes when the input size is not a multiple of its total upsampling factor), then a 3x3 <c>conv</c>.
/// </summary>
public sealed class Upsample2D : nn.Module<Tensor, long[]?, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv;

    public Upsample2D(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(Upsample2D));
        if (!node.Options.GetBool("use_conv") || node.Options.GetBool("use_conv_transpose") || !node.Options.GetBool("interpolate"))
            throw new NotSupportedException($"Module '{node.Path}': only Upsample2D with interpolation and a convolution is supported.");
        conv = layers.Conv2d(node.Child("conv"));
        RegisterComponents();
    }

    public Tensor forward(Tensor hiddenStates) => forward(hiddenStates, null);

    public override Tensor forward(Tensor hiddenStates, long[]? outputSize)
    {
        using var scope = NewDisposeScope();
        var upsampled = outputSize is null
            ? nn.functional.interpolate(hiddenStates, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest)
            : nn.functional.interpolate(hiddenStates, size: outputSize, mode: InterpolationMode.Nearest);
        return conv.call(upsampled).MoveToOuterDisposeScope();
    }
}
