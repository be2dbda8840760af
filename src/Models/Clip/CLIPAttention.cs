using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Clip;

/// <summary>
/// transformers <c>CLIPAttention</c> as the text encoder uses it: multi-head self-attention with a causal mask
/// (no padding mask, as in the Stable Diffusion pipelines), scores scaled by head_dim^-0.5.
/// </summary>
public sealed class CLIPAttention : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> k_proj;
    private readonly nn.Module<Tensor, Tensor> v_proj;
    private readonly nn.Module<Tensor, Tensor> q_proj;
    private readonly nn.Module<Tensor, Tensor> out_proj;

    private readonly long _heads;
    private readonly long _headDim;
    private readonly double _queryScale;
    private readonly double _dropout;

    public CLIPAttention(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(CLIPAttention));
        _heads = node.Options.GetInt("num_heads");
        _headDim = node.Options.GetInt("head_dim");
        // scaled_dot_product_attention divides by sqrt(head_dim); fold any other configured scale into the query.
        _queryScale = node.Options.GetDouble("scale") * Math.Sqrt(_headDim);
        _dropout = node.Options.GetDouble("dropout");
        k_proj = layers.Linear(node.Child("k_proj"));
        v_proj = layers.Linear(node.Child("v_proj"));
        q_proj = layers.Linear(node.Child("q_proj"));
        out_proj = layers.Linear(node.Child("out_proj"));
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        var query = SplitHeads(q_proj.call(hiddenStates));
        if (Math.Abs(_queryScale - 1.0) > 1e-12) query = query.Mul(_queryScale);
        var key = SplitHeads(k_proj.call(hiddenStates));
        var value = SplitHeads(v_proj.call(hiddenStates));
        var attended = nn.functional.scaled_dot_product_attention(query, key, value, p: training ? _dropout : 0.0, is_casual: true);
        return out_proj.call(attended.transpose(1, 2).flatten(2)).MoveToOuterDisposeScope();
    }

    /// <summary>[B, N, heads * head_dim] to [B, heads, N, head_dim].</summary>
    private Tensor SplitHeads(Tensor x) => x.view(x.shape[0], x.shape[1], _heads, _headDim).transpose(1, 2);
}
