using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Lora;

/// <summary>
/// PEFT 0.20's <c>LoraVariant</c> (<c>tuners/lora/variants.py</c>): a way of using a LoRA adapter's A and B other than
/// adding <c>scaling · B·A</c> (DoRA is one). A variant is selected by a boolean field of the LoRA config
/// (<see cref="ConfigField"/>, e.g. <c>use_dora</c>); every non-abstract subclass in this assembly is registered, so a
/// variant is a folder of its own. It may keep per-adapter state in containers of the layer
/// (<see cref="LoraLayer.VariantContainer"/>), whose tensors train and are saved with A and B.
/// </summary>
public abstract class LoraVariant
{
    private static readonly Lazy<IReadOnlyList<LoraVariant>> Variants = new(() =>
        typeof(LoraVariant).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(LoraVariant)) && !t.IsAbstract)
            .Select(t => (LoraVariant)Activator.CreateInstance(t, nonPublic: true)!)
            .ToList());

    /// <summary>The variant's name for messages (<c>DoRA</c>).</summary>
    public abstract string Name { get; }

    /// <summary>The LoRA config field that selects it (<c>use_dora</c>).</summary>
    public abstract string ConfigField { get; }

    /// <summary>The variant registered for <paramref name="configField"/>, or null.</summary>
    public static LoraVariant? Find(string configField) => Variants.Value.FirstOrDefault(v => v.ConfigField == configField);

    /// <summary>PEFT's <c>init</c>: creates the adapter's extra tensors once A and B exist and are initialised.</summary>
    internal abstract void Init(LoraLayer layer, string adapterName);

    /// <summary>The adapter's extra tensors, after A and B in the layer's <see cref="AdapterLayer.TensorsOf"/>.</summary>
    internal abstract IEnumerable<AdapterTensor> TensorsOf(LoraLayer layer, string adapterName);

    /// <summary>
    /// The adapter's contribution to the layer output for input <paramref name="x"/> (already in the adapter's dtype);
    /// <paramref name="baseOutput"/> is <c>base_layer(x)</c>, bias included.
    /// </summary>
    internal abstract Tensor Forward(LoraLayer layer, string adapterName, Tensor x, Tensor baseOutput);

    /// <summary>What merging into the base weight <paramref name="weight"/> would add (PEFT's <c>merge_safe</c> result minus the old weight); no side effects.</summary>
    internal abstract Tensor DeltaWeight(LoraLayer layer, string adapterName, Tensor weight);

    /// <summary>What merging adds to <paramref name="weight"/>, the base weight now; a variant may record what its unmerge needs.</summary>
    internal virtual Tensor MergeDelta(LoraLayer layer, string adapterName, Tensor weight) => DeltaWeight(layer, adapterName, weight);

    /// <summary>What unmerging adds to the merged weight <paramref name="weight"/> to restore the weight before the merge.</summary>
    internal abstract Tensor UnmergeDelta(LoraLayer layer, string adapterName, Tensor weight);
}
