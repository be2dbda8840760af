using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Unet;

/// <summary>
/// diffusers <c>CrossAttnUpBlock2D</c>: <c>resnets.i</c> on <c>cat([hidden, skip], dim: 1)</c> (skips consumed from the end)
/// then <c>attentions.i</c>, and an optional <c>upsamplers.0</c>.
/// </summary>
public sealed class CrossAttnUpBlock2D : nn.Module<UpBlockInput, Tensor>
{
    private readonly ModuleList<Transformer2DModel> attentions;
    private readonly ModuleList<ResnetBlock2D> resnets;
    private readonly ModuleList<Upsample2D>? upsamplers;

    public CrossAttnUpBlock2D(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(CrossAttnUpBlock2D));
        attentions = UNetBlocks.Attentions(node, layers);
        resnets = UNetBlocks.Resnets(node, layers);
        UNetBlocks.ExpectSameCount(node, resnets.Count, attentions.Count);
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
            hidden = UNetBlocks.Attention(attentions[i], hidden, input.EncoderHiddenStates, input.GradientCheckpointing);
        }
        if (upsamplers is not null)
        {
            foreach (var upsampler in upsamplers) hidden = upsampler.call(hidden, input.UpsampleSize);
        }
        return hidden.MoveToOuterDisposeScope();
    }
}
