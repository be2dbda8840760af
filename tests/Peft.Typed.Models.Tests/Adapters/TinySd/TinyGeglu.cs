using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary><c>ff.net.0</c>: a, gate = chunk(proj(y), 2); a · gelu(gate) with the exact erf GELU.</summary>
internal sealed class TinyGeglu : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> proj;

    public TinyGeglu(TinySdSpec spec) : base(nameof(TinyGeglu))
    {
        proj = TinySdModule.Linear(spec.Inner, 2 * spec.FeedForwardInner);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var parts = proj.call(input).chunk(2, -1);
        return (parts[0] * nn.functional.gelu(parts[1])).MoveToOuterDisposeScope();
    }
}
