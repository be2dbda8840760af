using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Clip;

/// <summary>
/// transformers <c>CLIPEncoder</c>: the stack of <c>layers</c>. Returns every hidden state, as transformers does with
/// output_hidden_states: the input, then the output of each layer (the last one before final_layer_norm).
/// </summary>
public sealed class CLIPEncoder : nn.Module<Tensor, IReadOnlyList<Tensor>>
{
    private readonly ModuleList<CLIPEncoderLayer> layers;

    public CLIPEncoder(ModuleNode node, LayerFactory layerFactory) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(CLIPEncoder));
        layers = nn.ModuleList(node.Child("layers").Children.Select(n => new CLIPEncoderLayer(n, layerFactory)).ToArray());
        RegisterComponents();
    }

    public override IReadOnlyList<Tensor> forward(Tensor inputsEmbeds)
    {
        using var scope = NewDisposeScope();
        var hiddenStates = new List<Tensor>(layers.Count + 1) { inputsEmbeds };
        foreach (var layer in layers) hiddenStates.Add(layer.call(hiddenStates[^1]));
        // The input already belongs to the caller; only the layer outputs are handed out.
        foreach (var output in hiddenStates.Skip(1)) output.MoveToOuterDisposeScope();
        return hiddenStates;
    }
}
