using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary><c>mlp</c>: fc2(quick_gelu(fc1(x))), quick_gelu(x) = x · sigmoid(1.702 x).</summary>
internal sealed class TinyClipMlp : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> fc1;
    private readonly nn.Module<Tensor, Tensor> fc2;

    public TinyClipMlp(TinySdSpec spec) : base(nameof(TinyClipMlp))
    {
        fc1 = TinySdModule.Linear(spec.TextDim, spec.TextInner);
        fc2 = TinySdModule.Linear(spec.TextInner, spec.TextDim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var h = fc1.call(input);
        return fc2.call(h * sigmoid(h.Mul(1.702))).MoveToOuterDisposeScope();
    }
}
