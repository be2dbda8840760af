using Peft.Typed.Models.Adapters;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Typed;

/// <summary>
/// A Linear or Conv2d module that adapters can wrap. Before an adapter is applied <see cref="Layer"/> is the module
/// at the path; afterwards <see cref="Adapter()"/> (typed: <c>Adapter&lt;LoraLayer&gt;()</c>) is the wrapper there and
/// <see cref="Layer"/> the layer it keeps as <c>base_layer</c>.
/// </summary>
public sealed class LayerView<TLayer> : ModuleView
    where TLayer : nn.Module<Tensor, Tensor>
{
    public LayerView(TypedModel owner, string path) : base(owner, path)
    {
    }

    /// <summary>The module at the path now: the layer itself, or the adapter layer wrapping it.</summary>
    public new nn.Module<Tensor, Tensor> Module => Cast<nn.Module<Tensor, Tensor>>(Owner.ModuleAt(Path), Path);

    /// <summary>The <typeparamref name="TLayer"/> computing the base output (<c>base_layer</c> once adapted).</summary>
    public TLayer Layer => Cast<TLayer>(Unwrap(Owner.ModuleAt(Path)), Path);

    /// <summary>True once an adapter wraps this layer.</summary>
    public bool IsAdapted => Owner.ModuleAt(Path) is AdapterLayer;

    /// <summary>The adapter layer wrapping this layer; throws when none does.</summary>
    public AdapterLayer Adapter() => Owner.ModuleAt(Path) as AdapterLayer
        ?? throw new InvalidOperationException($"'{Path}' is not adapted: no adapter targets it.");

    /// <summary>
    /// The adapter layer wrapping this layer as its kind's class (<c>Adapter&lt;LoraLayer&gt;().WeightA("default")</c>);
    /// throws when no adapter, or one of another kind, wraps it.
    /// </summary>
    public TAdapter Adapter<TAdapter>() where TAdapter : AdapterLayer => Adapter() as TAdapter
        ?? throw new InvalidOperationException($"'{Path}' holds {Owner.ModuleAt(Path).GetType().Name} adapters, not {typeof(TAdapter).Name}.");

    /// <summary>The tensors of one adapter of this layer (<c>lora_A</c>/<c>weight</c>, ...), in PEFT's order.</summary>
    public IReadOnlyList<AdapterTensor> AdapterWeights(string adapterName = PeftModel.DefaultAdapterName) => Adapter().TensorsOf(adapterName).ToList();
}
