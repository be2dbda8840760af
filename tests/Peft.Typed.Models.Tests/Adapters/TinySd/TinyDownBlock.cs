using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary><c>unet.down_block</c>: resnets.0, attentions.0, downsamplers.0.</summary>
internal sealed class TinyDownBlock : nn.Module
{
    private readonly ModuleList<TinyResnet> resnets;
    private readonly ModuleList<TinyTransformer2D> attentions;
    private readonly ModuleList<TinyDownsample> downsamplers;

    public TinyDownBlock(TinySdSpec spec) : base(nameof(TinyDownBlock))
    {
        resnets = nn.ModuleList(new TinyResnet(spec));
        attentions = nn.ModuleList(new TinyTransformer2D(spec));
        downsamplers = nn.ModuleList(new TinyDownsample(spec));
        RegisterComponents();
    }

    public Tensor forward(Tensor h, Tensor temb, Tensor context)
    {
        using var scope = NewDisposeScope();
        h = resnets[0].forward(h, temb);
        h = attentions[0].forward(h, context);
        return downsamplers[0].call(h).MoveToOuterDisposeScope();
    }
}
