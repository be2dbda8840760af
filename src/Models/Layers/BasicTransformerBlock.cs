using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>
/// diffusers <c>BasicTransformerBlock</c> (layer_norm variant), pre-norm with residuals:
/// <c>x += attn1(norm1(x)); x += attn2(norm2(x), context); x += ff(norm3(x))</c>. With only_cross_attention, attn1
/// attends to the context too.
/// </summary>
public sealed class BasicTransformerBlock : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> norm1;
    private readonly Attention attn1;
    private readonly nn.Module<Tensor, Tensor>? norm2;
    private readonly Attention? attn2;
    private readonly nn.Module<Tensor, Tensor> norm3;
    private readonly FeedForward ff;

    private readonly bool _onlyCrossAttention;

    public BasicTransformerBlock(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(BasicTransformerBlock));
        norm1 = layers.LayerNorm(node.Child("norm1"));
        attn1 = new Attention(node.Child("attn1"), layers);
        _onlyCrossAttention = node.Child("attn1").Options.GetBool("is_cross_attention");
        if (node.HasChild("attn2"))
        {
            norm2 = layers.LayerNorm(node.Child("norm2"));
            attn2 = new Attention(node.Child("attn2"), layers);
        }
        norm3 = layers.LayerNorm(node.Child("norm3"));
        ff = new FeedForward(node.Child("ff"), layers);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates, Tensor? encoderHiddenStates)
    {
        using var scope = NewDisposeScope();
        var x = attn1.call(norm1.call(hiddenStates), _onlyCrossAttention ? encoderHiddenStates : null).Add(hiddenStates);
        if (attn2 is not null) x = attn2.call(norm2!.call(x), encoderHiddenStates).Add(x);
        x = ff.call(norm3.call(x)).Add(x);
        return x.MoveToOuterDisposeScope();
    }
}
