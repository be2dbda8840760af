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

    public UNetMidBlock2DCrossAttn(ModuleNode node, LayerFactory layers) : base(node.Name)
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
        var hidden = resnets[0].call(input.HiddenStates, input.Temb);
        for (int i = 0; i < attentions.Count; i++)
        {
            hidden = attentions[i].call(hidden, input.EncoderHiddenStates);
            hidden = resnets[i + 1].call(hidden, input.Temb);
        }
        return hidden.MoveToOuterDisposeScope();
    }
}
