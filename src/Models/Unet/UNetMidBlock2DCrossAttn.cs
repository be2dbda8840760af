using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Unet;

/// <summary>diffusers <c>UNetMidBlock2DCrossAttn</c>: <c>resnets.0</c>, then pairs of <c>attentions.i</c> and <c>resnets.i+1</c>.</summary>
public sealed class UNetMidBlock2DCrossAttn : nn.Module<UNetBlockInput, Tensor>
{
    private readonly ModuleList<Transformer2DModel> attentions;
    private readonly ModuleList<ResnetBlock2D> resnets;

    public UNetMidBlock2DCrossAttn(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(UNetMidBlock2DCrossAttn));
        attentions = UNetBlocks.Attentions(node, layers);
        resnets = UNetBlocks.Resnets(node, layers);
        UNetBlocks.ExpectSameCount(node, resnets.Count, attentions.Count + 1);
        RegisterComponents();
    }

    public override Tensor forward(UNetBlockInput input)
    {
        using var scope = NewDisposeScope();
        var hidden = UNetBlocks.Resnet(resnets[0], input.HiddenStates, input.Temb, input.GradientCheckpointing);
        for (int i = 0; i < attentions.Count; i++)
        {
            hidden = UNetBlocks.Attention(attentions[i], hidden, input.EncoderHiddenStates, input.GradientCheckpointing);
            hidden = UNetBlocks.Resnet(resnets[i + 1], hidden, input.Temb, input.GradientCheckpointing);
        }
        return hidden.MoveToOuterDisposeScope();
    }
}
