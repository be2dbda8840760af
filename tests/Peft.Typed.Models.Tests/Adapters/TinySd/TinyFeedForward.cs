using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary><c>ff</c>: net = [GEGLU(inner → 2·ff_inner), Dropout, Linear(ff_inner, inner)].</summary>
internal sealed class TinyFeedForward : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> net;

    public TinyFeedForward(TinySdSpec spec) : base(nameof(TinyFeedForward))
    {
        net = nn.ModuleList<nn.Module<Tensor, Tensor>>(new TinyGeglu(spec), nn.Dropout(0.0), TinySdModule.Linear(spec.FeedForwardInner, spec.Inner));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return net[2].call(net[1].call(net[0].call(input))).MoveToOuterDisposeScope();
    }
}
