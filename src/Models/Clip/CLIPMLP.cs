using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Clip;

/// <summary>transformers <c>CLIPMLP</c>: <c>fc2(activation_fn(fc1(x)))</c>.</summary>
public sealed class CLIPMLP : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> activation_fn;
    private readonly nn.Module<Tensor, Tensor> fc1;
    private readonly nn.Module<Tensor, Tensor> fc2;

    public CLIPMLP(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(CLIPMLP));
        activation_fn = LayerFactory.Activation(node.Child("activation_fn"));
        fc1 = layers.Linear(node.Child("fc1"));
        fc2 = layers.Linear(node.Child("fc2"));
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        return fc2.call(activation_fn.call(fc1.call(hiddenStates))).MoveToOuterDisposeScope();
    }
}
