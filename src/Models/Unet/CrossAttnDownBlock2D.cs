using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Unet;

/// <summary>
/// diffusers <c>CrossAttnDownBlock2D</c>: pairs of <c>resnets.i</c> then <c>attentions.i</c> (Transformer2DModel), then an
/// optional <c>downsamplers.0</c>; every pair's output and the downsampler's are skips.
/// </summary>
public sealed class CrossAttnDownBlock2D : nn.Module<UNetBlockInput, DownBlockOutput>
{
    private readonly ModuleList<Transformer2DModel> attentions;
    private readonly ModuleList<ResnetBlock2D> resnets;
    private readonly ModuleList<Downsample2D>? downsamplers;

    public CrossAttnDownBlock2D(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(CrossAttnDownBlock2D));
        attentions = UNetBlocks.Attentions(node, layers);
        resnets = UNetBlocks.Resnets(node, layers);
        UNetBlocks.ExpectSameCount(node, resnets.Count, attentions.Count);
        downsamplers = UNetBlocks.Downsamplers(node, layers);
        RegisterComponents();
    }

    public override DownBlockOutput forward(UNetBlockInput input)
    {
        using var scope = NewDisposeScope();
        var outputs = new List<Tensor>();
        var hidden = input.HiddenStates;
        for (int i = 0; i < resnets.Count; i++)
        {
            hidden = UNetBlocks.Resnet(resnets[i], hidden, input.Temb, input.GradientCheckpointing);
            hidden = UNetBlocks.Attention(attentions[i], hidden, input.EncoderHiddenStates, input.GradientCheckpointing);
            outputs.Add(hidden);
        }
        if (downsamplers is not null)
        {
            foreach (var downsampler in downsamplers)
            {
                hidden = downsampler.call(hidden);
                outputs.Add(hidden);
            }
        }
        return UNetBlocks.MoveToOuterDisposeScope(outputs);
    }
}
