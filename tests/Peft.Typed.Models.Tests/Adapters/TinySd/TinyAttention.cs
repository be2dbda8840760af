using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary><c>attn1</c>/<c>attn2</c>: to_q, to_k, to_v (no bias), to_out = [Linear, Dropout], with the spec's heads.</summary>
internal sealed class TinyAttention : nn.Module
{
    private readonly nn.Module<Tensor, Tensor> to_q;
    private readonly nn.Module<Tensor, Tensor> to_k;
    private readonly nn.Module<Tensor, Tensor> to_v;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> to_out;
    private readonly int _heads;

    public TinyAttention(long inner, long contextDim, int heads) : base(nameof(TinyAttention))
    {
        _heads = heads;
        to_q = TinySdModule.Linear(inner, inner, bias: false);
        to_k = TinySdModule.Linear(contextDim, inner, bias: false);
        to_v = TinySdModule.Linear(contextDim, inner, bias: false);
        to_out = nn.ModuleList<nn.Module<Tensor, Tensor>>(TinySdModule.Linear(inner, inner), nn.Dropout(0.0));
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor context)
    {
        using var scope = NewDisposeScope();
        var o = TinySdModule.Attend(to_q.call(x), to_k.call(context), to_v.call(context), _heads, causal: false);
        return to_out[1].call(to_out[0].call(o)).MoveToOuterDisposeScope();
    }
}
