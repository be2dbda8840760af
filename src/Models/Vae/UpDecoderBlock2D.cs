using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Vae;

/// <summary>diffusers <c>UpDecoderBlock2D</c>: <c>resnets</c> without time embedding, then an optional <c>upsamplers.0</c>.</summary>
public sealed class UpDecoderBlock2D : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<ResnetBlock2D> resnets;
    private readonly ModuleList<Upsample2D>? upsamplers;

    public UpDecoderBlock2D(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(UpDecoderBlock2D));
        resnets = nn.ModuleList(node.Child("resnets").Children.Select(n => new ResnetBlock2D(n, layers)).ToArray());
        if (node.HasChild("upsamplers"))
            upsamplers = nn.ModuleList(node.Child("upsamplers").Children.Select(n => new Upsample2D(n, layers)).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        var hidden = hiddenStates;
        foreach (var resnet in resnets) hidden = resnet.call(hidden, null);
        if (upsamplers is not null)
        {
            foreach (var upsampler in upsamplers) hidden = upsampler.call(hidden, null);
        }
        return hidden.MoveToOuterDisposeScope();
    }
}
