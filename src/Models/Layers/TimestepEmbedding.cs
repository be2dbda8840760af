using Peft.Typed.Architecture.Tree;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>diffusers <c>TimestepEmbedding</c>: <c>linear_2(act(linear_1(sample)))</c>.</summary>
public sealed class TimestepEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> linear_1;
    private readonly nn.Module<Tensor, Tensor> act;
    private readonly nn.Module<Tensor, Tensor> linear_2;

    public TimestepEmbedding(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(TimestepEmbedding));
        linear_1 = layers.Linear(node.Child("linear_1"));
        act = LayerFactory.Activation(node.Child("act"));
        linear_2 = layers.Linear(node.Child("linear_2"));
        RegisterComponents();
    }

    public override Tensor forward(Tensor sample)
    {
        using var scope = NewDisposeScope();
        return linear_2.call(act.call(linear_1.call(sample))).MoveToOuterDisposeScope();
    }
}
