using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Clip;

/// <summary>transformers <c>CLIPEncoderLayer</c>, pre-norm: <c>x += self_attn(layer_norm1(x)); x += mlp(layer_norm2(x))</c>.</summary>
public sealed class CLIPEncoderLayer : nn.Module<Tensor, Tensor>
{
    private readonly CLIPAttention self_attn;
    private readonly nn.Module<Tensor, Tensor> layer_norm1;
    private readonly CLIPMLP mlp;
    private readonly nn.Module<Tensor, Tensor> layer_norm2;

    public CLIPEncoderLayer(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(CLIPEncoderLayer));
        self_attn = new CLIPAttention(node.Child("self_attn"), layers);
        layer_norm1 = layers.LayerNorm(node.Child("layer_norm1"));
        mlp = new CLIPMLP(node.Child("mlp"), layers);
        layer_norm2 = layers.LayerNorm(node.Child("layer_norm2"));
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        var x = hiddenStates.Add(self_attn.call(layer_norm1.call(hiddenStates)));
        x = x.Add(mlp.call(layer_norm2.call(x)));
        return x.MoveToOuterDisposeScope();
    }
}
