using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary><c>self_attn</c>: causal self-attention with q/k/v/out projections (with bias), 2 heads of 16.</summary>
internal sealed class TinyClipAttention : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> q_proj;
    private readonly nn.Module<Tensor, Tensor> k_proj;
    private readonly nn.Module<Tensor, Tensor> v_proj;
    private readonly nn.Module<Tensor, Tensor> out_proj;

    public TinyClipAttention() : base(nameof(TinyClipAttention))
    {
        q_proj = TinySdModule.Linear(32, 32);
        k_proj = TinySdModule.Linear(32, 32);
        v_proj = TinySdModule.Linear(32, 32);
        out_proj = TinySdModule.Linear(32, 32);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var o = TinySdModule.Attend(q_proj.call(input), k_proj.call(input), v_proj.call(input), heads: 2, causal: true);
        return out_proj.call(o).MoveToOuterDisposeScope();
    }
}
