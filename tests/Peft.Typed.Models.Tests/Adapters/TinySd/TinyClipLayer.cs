using Peft.Typed.Models.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary>
/// <c>text_encoder.layers.0</c>: t = x + out_proj(causal_mha(layer_norm1(x))); t + fc2(quick_gelu(fc1(layer_norm2(t)))).
/// </summary>
internal sealed class TinyClipLayer : nn.Module<Tensor, Tensor>
{
    private readonly TinyClipAttention self_attn;
    private readonly LayerNorm layer_norm1;
    private readonly TinyClipMlp mlp;
    // Typed as any layer so modules_to_save can swap in its wrapper; layer_norm1 stays LayerNorm to test the refusal.
    private readonly nn.Module<Tensor, Tensor> layer_norm2;

    public TinyClipLayer(TinySdSpec spec) : base(nameof(TinyClipLayer))
    {
        self_attn = new TinyClipAttention(spec);
        layer_norm1 = nn.LayerNorm(spec.TextDim);
        mlp = new TinyClipMlp(spec);
        layer_norm2 = nn.LayerNorm(spec.TextDim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var t = input.Add(self_attn.call(layer_norm1.call(input)));
        return t.Add(mlp.call(layer_norm2.call(t))).MoveToOuterDisposeScope();
    }
}
