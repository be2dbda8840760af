using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.LoHa;
using Peft.Typed.Models.Adapters.LoKr;
using Peft.Typed.Models.Adapters.Lora;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Typed;

/// <summary>
/// A Linear or Conv2d module that adapters can wrap. Before an adapter is applied <see cref="Layer"/> is the module
/// at the path; afterwards <see cref="Adapter"/> (or <see cref="Lora"/>, <see cref="LoHa"/>, <see cref="LoKr"/>) is the
/// wrapper there and <see cref="Layer"/> the layer it keeps as <c>base_layer</c>.
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
    public AdapterLayer Adapter => Owner.ModuleAt(Path) as AdapterLayer
        ?? throw new InvalidOperationException($"'{Path}' is not adapted: no adapter targets it.");

    /// <summary>The LoRA layer wrapping this layer (<c>lora_A</c>, <c>lora_B</c>); throws when it holds no LoRA adapter.</summary>
    public LoraLayer Lora => Adapter as LoraLayer ?? throw WrongKind("LoRA");

    /// <summary>The LoHa layer wrapping this layer (<c>hada_w1_a</c>, ...); throws when it holds no LoHa adapter.</summary>
    public LoHaLayer LoHa => Adapter as LoHaLayer ?? throw WrongKind("LoHa");

    /// <summary>The LoKr layer wrapping this layer (<c>lokr_w1</c>, ...); throws when it holds no LoKr adapter.</summary>
    public LoKrLayer LoKr => Adapter as LoKrLayer ?? throw WrongKind("LoKr");

    /// <summary>The tensors of one adapter of this layer (<c>lora_A</c>/<c>weight</c>, ...), in PEFT's order.</summary>
    public IReadOnlyList<AdapterTensor> AdapterWeights(string adapterName = PeftModel.DefaultAdapterName) => Adapter.TensorsOf(adapterName).ToList();

    private InvalidOperationException WrongKind(string kind) =>
        new($"'{Path}' holds {Owner.ModuleAt(Path).GetType().Name} adapters, not {kind}.");
}
