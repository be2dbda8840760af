using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Dora;

/// <summary>
/// PEFT's <c>DoraLinearLayer</c> / <c>DoraConv2dLayer</c> as state: the trainable magnitude <c>m</c> (key
/// <c>lora_magnitude_vector.&lt;adapter&gt;.weight</c>; Linear <c>[out]</c>, Conv2d <c>[1, out, 1, 1]</c>) and, while
/// merged, the weight norm the merge divided by (PEFT's cache), which unmerging needs.
/// </summary>
internal sealed class DoraMagnitude : nn.Module
{
    private readonly Parameter weight;

    public DoraMagnitude(Tensor magnitude) : base("DoraMagnitude")
    {
        weight = new Parameter(magnitude, requires_grad: true);
        weight.DetachFromDisposeScope();
        RegisterComponents();
    }

    public Parameter Weight => weight;

    /// <summary>‖W + ΔW‖ per output channel at the last merge (shaped like <see cref="Weight"/>), or null when not merged.</summary>
    public Tensor? MergedNorm { get; private set; }

    public void SetMergedNorm(Tensor? norm)
    {
        MergedNorm?.Dispose();
        MergedNorm = norm?.detach().clone().DetachFromDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) SetMergedNorm(null);
        base.Dispose(disposing);
    }
}
