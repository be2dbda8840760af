using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>
/// diffusers <c>Attention</c> with its default processor: multi-head attention over [B, N, C] tokens, or over the pixels of
/// a [B, C, H, W] map (the VAE's single-head mid-block attention, which also has a <c>group_norm</c> and a residual).
/// Keys and values come from <c>encoderHiddenStates</c> when given (cross-attention), else from the input.
/// Returns <c>to_out(attention) (+ input when residual_connection) / rescale_output_factor</c>.
/// </summary>
public sealed class Attention : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly nn.Module<Tensor, Tensor>? group_norm;
    private readonly nn.Module<Tensor, Tensor> to_q;
    private readonly nn.Module<Tensor, Tensor> to_k;
    private readonly nn.Module<Tensor, Tensor> to_v;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> to_out;

    private readonly long _heads;
    private readonly long _dimHead;
    private readonly double _queryScale;
    private readonly bool _upcast;
    private readonly bool _residualConnection;
    private readonly double _rescaleOutputFactor;

    public Attention(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(Attention));
        var o = node.Options;
        _heads = o.GetInt("heads");
        _dimHead = o.GetInt("dim_head");
        // scaled_dot_product_attention divides by sqrt(dim_head); fold any other configured scale into the query.
        _queryScale = o.GetDouble("scale") * Math.Sqrt(_dimHead);
        _upcast = o["upcast_attention"] is true || o["upcast_softmax"] is true;
        _residualConnection = o.GetBool("residual_connection");
        _rescaleOutputFactor = o.GetDouble("rescale_output_factor");

        if (node.HasChild("group_norm")) group_norm = layers.GroupNorm(node.Child("group_norm"));
        to_q = layers.Linear(node.Child("to_q"));
        to_k = layers.Linear(node.Child("to_k"));
        to_v = layers.Linear(node.Child("to_v"));
        var outNode = node.Child("to_out");
        to_out = nn.ModuleList<nn.Module<Tensor, Tensor>>(layers.Linear(outNode.Child("0")), LayerFactory.Dropout(outNode.Child("1")));
        RegisterComponents();
    }

    public Tensor forward(Tensor hiddenStates) => forward(hiddenStates, null);

    public override Tensor forward(Tensor hiddenStates, Tensor? encoderHiddenStates)
    {
        using var scope = NewDisposeScope();
        var residual = hiddenStates;
        var isImage = hiddenStates.dim() == 4;
        var tokens = isImage ? hiddenStates.flatten(2).transpose(1, 2) : hiddenStates;
        if (group_norm is not null) tokens = group_norm.call(tokens.transpose(1, 2)).transpose(1, 2);

        var context = encoderHiddenStates ?? tokens;
        var query = SplitHeads(to_q.call(tokens));
        var key = SplitHeads(to_k.call(context));
        var value = SplitHeads(to_v.call(context));
        if (Math.Abs(_queryScale - 1.0) > 1e-12) query = query.Mul(_queryScale);

        var dtype = query.dtype;
        // upcast_attention / upcast_softmax: diffusers keeps the scores and softmax of half-precision inputs in float32.
        var upcast = _upcast && dtype != ScalarType.Float32 && dtype != ScalarType.Float64;
        if (upcast)
        {
            query = query.to_type(ScalarType.Float32);
            key = key.to_type(ScalarType.Float32);
            value = value.to_type(ScalarType.Float32);
        }
        var attended = NarrowHeadAttention.Handles(query, key, value)
            ? NarrowHeadAttention.Apply(query, key, value)
            : nn.functional.scaled_dot_product_attention(query, key, value);
        if (upcast) attended = attended.to_type(dtype);

        var output = attended.transpose(1, 2).flatten(2);
        output = to_out[1].call(to_out[0].call(output));
        if (isImage) output = output.transpose(1, 2).reshape(residual.shape);
        if (_residualConnection) output = output.Add(residual);
        if (_rescaleOutputFactor != 1.0) output = output.Div(_rescaleOutputFactor);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>[B, N, heads * dim_head] to [B, heads, N, dim_head].</summary>
    // Contiguous: libtorch's CPU flash attention ran forward and backward on 4,096 tokens 4 % (heads of 16) to 10 % (40)
    // faster with each head's rows side by side than on the transposed view, copies included (AttentionLayoutBenchmarks).
    private Tensor SplitHeads(Tensor x) => x.view(x.shape[0], x.shape[1], _heads, _dimHead).transpose(1, 2).contiguous();
}
