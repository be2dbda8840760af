using Peft.Typed.Architecture.Tree;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>diffusers <c>FeedForward</c> with the GEGLU activation: <c>net</c> = [GEGLU, Dropout, Linear], applied in order.</summary>
public sealed class FeedForward : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> net;

    public FeedForward(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(FeedForward));
        var netNode = node.Child("net");
        var activation = netNode.Child("0");
        if (activation.ClassName != nameof(GEGLU))
            throw new NotSupportedException($"Module '{activation.Path}': feed-forward activation '{activation.ClassName}' is not supported (only GEGLU).");
        net = nn.ModuleList<nn.Module<Tensor, Tensor>>(
            new GEGLU(activation, layers), LayerFactory.Dropout(netNode.Child("1")), layers.Linear(netNode.Child("2")));
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        var output = hiddenStates;
        foreach (var module in net) output = module.call(output);
        return output.MoveToOuterDisposeScope();
    }
}
