using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Unet;

/// <summary>diffusers <c>DownBlock2D</c>: <c>resnets</c>, then an optional <c>downsamplers.0</c>; every output is a skip.</summary>
public sealed class DownBlock2D : nn.Module<UNetBlockInput, DownBlockOutput>
{
    private readonly ModuleList<ResnetBlock2D> resnets;
    private readonly ModuleList<Downsample2D>? downsamplers;

    public DownBlock2D(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(DownBlock2D));
        resnets = UNetBlocks.Resnets(node, layers);
        downsamplers = UNetBlocks.Downsamplers(node, layers);
        RegisterComponents();
    }

    public override DownBlockOutput forward(UNetBlockInput input)
    {
        using var scope = NewDisposeScope();
        var outputs = new List<Tensor>();
        var hidden = input.HiddenStates;
        foreach (var resnet in resnets)
        {
            hidden = UNetBlocks.Resnet(resnet, hidden, input.Temb, input.GradientCheckpointing);
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
