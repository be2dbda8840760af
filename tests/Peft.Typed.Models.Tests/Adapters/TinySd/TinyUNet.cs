using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary><c>unet</c>: conv_in, time_embedding.linear_1 (no activation) and one down block.</summary>
internal sealed class TinyUNet : nn.Module
{
    private readonly nn.Module<Tensor, Tensor> conv_in;
    private readonly TinyTimeEmbedding time_embedding;
    private readonly TinyDownBlock down_block;

    public TinyUNet(TinySdSpec spec) : base(nameof(TinyUNet))
    {
        conv_in = TinySdModule.Conv(spec.InChannels, spec.Channels0, 3, padding: 1);
        time_embedding = new TinyTimeEmbedding(spec);
        down_block = new TinyDownBlock(spec);
        RegisterComponents();
    }

    public Tensor forward(Tensor sample, Tensor tembIn, Tensor context)
    {
        using var scope = NewDisposeScope();
        var h = conv_in.call(sample);
        var temb = time_embedding.call(tembIn);
        return down_block.forward(h, temb, context).MoveToOuterDisposeScope();
    }
}
