using TorchSharp.Modules;

namespace Peft.Typed.Models.Adapters;

/// <summary>
/// One tensor of one adapter in a layer: its per-adapter container (<c>lora_A</c>, <c>hada_w1_a</c>) and the name
/// inside the adapter's entry (<c>weight</c> for module containers, null for parameter containers). The model key is
/// <c>&lt;module&gt;.&lt;container&gt;.&lt;adapter&gt;[.&lt;suffix&gt;]</c>; the saved key drops the adapter name, and the
/// suffix too where PEFT does (<paramref name="SuffixSaved"/> false: DoRA's <c>lora_magnitude_vector</c>).
/// </summary>
public readonly record struct AdapterTensor(string Container, string? Suffix, Parameter Parameter, bool SuffixSaved = true)
{
    /// <summary>The key inside the layer: <c>lora_A.default.weight</c>, <c>hada_w1_a.default</c>.</summary>
    public string ModelKey(string adapterName) => Suffix is null ? $"{Container}.{adapterName}" : $"{Container}.{adapterName}.{Suffix}";

    /// <summary>The key inside the layer as PEFT saves it: <c>lora_A.weight</c>, <c>hada_w1_a</c>.</summary>
    public string SavedKey => Suffix is null || !SuffixSaved ? Container : $"{Container}.{Suffix}";
}
