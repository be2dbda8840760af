using Peft.Typed.Models.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary><c>transformer_blocks.0</c>: self-attention, cross-attention and a GEGLU feed-forward, each pre-norm with a residual.</summary>
internal sealed class TinyTransformerBlock : nn.Module
{
    private readonly LayerNorm norm1;
    private readonly TinyAttention attn1;
    private readonly LayerNorm norm2;
    private readonly TinyAttention attn2;
    private readonly LayerNorm norm3;
    private readonly TinyFeedForward ff;

    public TinyTransformerBlock(TinySdSpec spec) : base(nameof(TinyTransformerBlock))
    {
        norm1 = nn.LayerNorm(spec.Inner);
        attn1 = new TinyAttention(spec.Inner, spec.Inner, spec.Heads);
        norm2 = nn.LayerNorm(spec.Inner);
        attn2 = new TinyAttention(spec.Inner, spec.ContextDim, spec.Heads);
        norm3 = nn.LayerNorm(spec.Inner);
        ff = new TinyFeedForward(spec);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor context)
    {
        using var scope = NewDisposeScope();
        var n1 = norm1.call(x);
        x = x.Add(attn1.forward(n1, n1));
        x = x.Add(attn2.forward(norm2.call(x), context));
        x = x.Add(ff.call(norm3.call(x)));
        return x.MoveToOuterDisposeScope();
    }
}
