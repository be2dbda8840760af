using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary><c>self_attn</c>: causal self-attention with q/k/v/out projections (with bias), with the spec's text heads.</summary>
internal sealed class TinyClipAttention : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> q_proj;
    private readonly nn.Module<Tensor, Tensor> k_proj;
    private readonly nn.Module<Tensor, Tensor> v_proj;
    private readonly nn.Module<Tensor, Tensor> out_proj;
    private readonly int _heads;

    public TinyClipAttention(TinySdSpec spec) : base(nameof(TinyClipAttention))
    {
        _heads = spec.TextHeads;
        q_proj = TinySdModule.Linear(spec.TextDim, spec.TextDim);
        k_proj = TinySdModule.Linear(spec.TextDim, spec.TextDim);
        v_proj = TinySdModule.Linear(spec.TextDim, spec.TextDim);
        out_proj = TinySdModule.Linear(spec.TextDim, spec.TextDim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var o = TinySdModule.Attend(q_proj.call(input), k_proj.call(input), v_proj.call(input), _heads, causal: true);
        return out_proj.call(o).MoveToOuterDisposeScope();
    }
}
