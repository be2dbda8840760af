using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Vae;

/// <summary>diffusers VAE <c>Decoder</c>: <c>conv_in</c>, <c>mid_block</c>, <c>up_blocks</c>, then <c>conv_out(act(conv_norm_out(·)))</c>.</summary>
public sealed class Decoder : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv_in;
    private readonly ModuleList<UpDecoderBlock2D> up_blocks;
    private readonly UNetMidBlock2D mid_block;
    private readonly nn.Module<Tensor, Tensor> conv_norm_out;
    private readonly nn.Module<Tensor, Tensor> conv_act;
    private readonly nn.Module<Tensor, Tensor> conv_out;

    public Decoder(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(Decoder));
        conv_in = layers.Conv2d(node.Child("conv_in"));
        up_blocks = nn.ModuleList(node.Child("up_blocks").Children.Select(n => new UpDecoderBlock2D(n, layers)).ToArray());
        mid_block = new UNetMidBlock2D(node.Child("mid_block"), layers);
        conv_norm_out = layers.GroupNorm(node.Child("conv_norm_out"));
        conv_act = LayerFactory.Activation(node.Child("conv_act"));
        conv_out = layers.Conv2d(node.Child("conv_out"));
        RegisterComponents();
    }

    public override Tensor forward(Tensor z)
    {
        using var scope = NewDisposeScope();
        var hidden = mid_block.call(conv_in.call(z));
        foreach (var block in up_blocks) hidden = block.call(hidden);
        hidden = conv_out.call(conv_act.call(conv_norm_out.call(hidden)));
        return hidden.MoveToOuterDisposeScope();
    }
}
