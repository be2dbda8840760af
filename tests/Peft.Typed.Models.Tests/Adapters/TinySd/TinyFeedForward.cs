using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary><c>ff</c>: net = [GEGLU(32 → 2·128), Dropout, Linear(128, 32)].</summary>
internal sealed class TinyFeedForward : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> net;

    public TinyFeedForward() : base(nameof(TinyFeedForward))
    {
        net = nn.ModuleList<nn.Module<Tensor, Tensor>>(new TinyGeglu(), nn.Dropout(0.0), TinySdModule.Linear(128, 32));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return net[2].call(net[1].call(net[0].call(input))).MoveToOuterDisposeScope();
    }
}
