using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters;

/// <summary>
/// PEFT's <c>LycorisLayer</c>, shared by LoHa and LoKr: the adapter is a full ΔW rebuilt from its factors once per
/// forward; PEFT adds <c>linear(x, ΔW)</c> / <c>conv2d(x, ΔW)</c> (base stride, padding, dilation, groups) to the base
/// output, which equals running the base layer with W + ΔW, as done here when dtypes allow. While training, rank
/// dropout masks rows of ΔW and module dropout skips the adapter.
/// </summary>
public abstract class LycorisLayer : AdapterLayer
{
    private readonly Dictionary<string, (double Rank, double Module, bool Rescale)> _dropout = new(StringComparer.Ordinal);

    protected LycorisLayer(string name, nn.Module<Tensor, Tensor> baseLayer, string moduleName) : base(name, baseLayer, moduleName)
    {
    }

    /// <summary>ΔW from the adapter's factors, scaled and reshaped to the base weight (no dropout).</summary>
    protected abstract Tensor BuildDeltaWeight(string adapterName);

    public override Tensor GetDeltaWeight(string adapterName) => BuildDeltaWeight(adapterName);

    /// <summary>Records the adapter's dropouts; <paramref name="rescale"/> divides the rank mask by its mean (always for LoHa).</summary>
    protected void RegisterDropout(string adapterName, double rankDropout, double moduleDropout, bool rescale) =>
        _dropout[adapterName] = (rankDropout, moduleDropout, rescale);

    /// <summary>
    /// With the base weight in the adapters' dtype, runs the layer once with W + ΣΔW instead of adding a second
    /// full-size linear/conv per adapter: the same sum up to rounding, one GEMM fewer forward and backward.
    /// Otherwise (half-precision base) PEFT's separate path, each adapter in float32.
    /// </summary>
    protected override Tensor AdaptedForward(Tensor x, IReadOnlyList<string> adapters)
    {
        var weight = BaseWeight;
        if (weight.dtype != AdapterDType || x.dtype != weight.dtype) return base.AdaptedForward(x, adapters);
        Tensor combined = weight;
        foreach (var adapter in adapters)
        {
            var delta = DeltaForForward(adapter);
            if (delta is not null) combined = combined.Add(delta);
        }
        return ReferenceEquals(combined, weight) ? BaseLayer.call(x) : Geometry.Apply(x, combined, BaseBias);
    }

    protected override Tensor? AdapterOutput(string adapterName, Tensor x)
    {
        var delta = DeltaForForward(adapterName);
        if (delta is null) return null;
        if (x.dtype != delta.dtype) x = x.to_type(delta.dtype);
        return Geometry.Apply(x, delta);
    }

    /// <summary>ΔW for this forward, built once: rank dropout applied while training; null when module dropout skips it.</summary>
    private Tensor? DeltaForForward(string adapterName)
    {
        var (rankDropout, moduleDropout, rescale) = _dropout[adapterName];
        if (training && moduleDropout > 0 && rand(1).item<float>() <= moduleDropout) return null;
        var delta = BuildDeltaWeight(adapterName);
        if (training && rankDropout > 0)
        {
            var drop = rand(delta.shape[0], device: delta.device).Gt(rankDropout).to_type(delta.dtype);
            if (rescale) drop = drop / drop.mean();
            delta = delta * drop.view([-1, .. Enumerable.Repeat(1L, (int)delta.dim() - 1)]);
        }
        return delta;
    }

    protected override void RemoveAdapterTensors(string adapterName) => _dropout.Remove(adapterName);

    /// <summary>Kaiming-uniform with a = √5, PEFT's initialisation for LyCORIS factors.</summary>
    protected static void KaimingUniform(Tensor tensor)
    {
        using var noGrad = no_grad();
        nn.init.kaiming_uniform_(tensor, a: Math.Sqrt(5));
    }

    protected static void Zero(Tensor tensor)
    {
        using var noGrad = no_grad();
        nn.init.zeros_(tensor);
    }
}
