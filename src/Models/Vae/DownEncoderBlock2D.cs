using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Vae;

/// <summary>diffusers <c>DownEncoderBlock2D</c>: <c>resnets</c> without time embedding, then an optional <c>downsamplers.0</c>.</summary>
public sealed class DownEncoderBlock2D : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<ResnetBlock2D> resnets;
    private readonly ModuleList<Downsample2D>? downsamplers;

    public DownEncoderBlock2D(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(DownEncoderBlock2D));
        resnets = nn.ModuleList(node.Child("resnets").Children.Select(n => new ResnetBlock2D(n, layers)).ToArray());
        if (node.HasChild("downsamplers"))
            downsamplers = nn.ModuleList(node.Child("downsamplers").Children.Select(n => new Downsample2D(n, layers)).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        var hidden = hiddenStates;
        foreach (var resnet in resnets) hidden = resnet.call(hidden, null);
        if (downsamplers is not null)
        {
            foreach (var downsampler in downsamplers) hidden = downsampler.call(hidden);
        }
        return hidden.MoveToOuterDisposeScope();
    }
}
