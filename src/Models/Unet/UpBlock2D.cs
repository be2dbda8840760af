using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Unet;

/// <summary>
/// diffusers <c>UpBlock2D</c>: each resnet takes <c>cat([hidden, skip], dim: 1)</c> with skips consumed from the end,
/// then an optional <c>upsamplers.0</c>.
/// </summary>
public sealed class UpBlock2D : nn.Module<UpBlockInput, Tensor>
{
    private readonly ModuleList<ResnetBlock2D> resnets;
    private readonly ModuleList<Upsample2D>? upsamplers;

    public UpBlock2D(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(UpBlock2D));
        resnets = UNetBlocks.Resnets(node, layers);
        upsamplers = UNetBlocks.Upsamplers(node, layers);
        RegisterComponents();
    }

    public override Tensor forward(UpBlockInput input)
    {
        UNetBlocks.ExpectSkips(this, input, resnets.Count);
        using var scope = NewDisposeScope();
        var hidden = input.HiddenStates;
        for (int i = 0; i < resnets.Count; i++)
        {
            var skip = input.ResHiddenStates[^(i + 1)];
            hidden = UNetBlocks.Resnet(resnets[i], cat([hidden, skip], dim: 1), input.Temb, input.GradientCheckpointing);
        }
        if (upsamplers is not null)
        {
            foreach (var upsampler in upsamplers) hidden = upsampler.call(hidden, input.UpsampleSize);
        }
        return hidden.MoveToOuterDisposeScope();
    }
}
