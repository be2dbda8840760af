using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Vae;

/// <summary>diffusers VAE <c>Encoder</c>: <c>conv_out(act(conv_norm_out(mid_block(down_blocks(conv_in(x))))))</c>, 2 x latent channels.</summary>
public sealed class Encoder : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv_in;
    private readonly ModuleList<DownEncoderBlock2D> down_blocks;
    private readonly UNetMidBlock2D mid_block;
    private readonly nn.Module<Tensor, Tensor> conv_norm_out;
    private readonly nn.Module<Tensor, Tensor> conv_act;
    private readonly nn.Module<Tensor, Tensor> conv_out;

    public Encoder(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(Encoder));
        conv_in = layers.Conv2d(node.Child("conv_in"));
        down_blocks = nn.ModuleList(node.Child("down_blocks").Children.Select(n => new DownEncoderBlock2D(n, layers)).ToArray());
        mid_block = new UNetMidBlock2D(node.Child("mid_block"), layers);
        conv_norm_out = layers.GroupNorm(node.Child("conv_norm_out"));
        conv_act = LayerFactory.Activation(node.Child("conv_act"));
        conv_out = layers.Conv2d(node.Child("conv_out"));
        RegisterComponents();
    }

    public override Tensor forward(Tensor sample)
    {
        using var scope = NewDisposeScope();
        var hidden = conv_in.call(sample);
        foreach (var block in down_blocks) hidden = block.call(hidden);
        hidden = mid_block.call(hidden);
        hidden = conv_out.call(conv_act.call(conv_norm_out.call(hidden)));
        return hidden.MoveToOuterDisposeScope();
    }
}
