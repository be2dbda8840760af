using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Dora;

/// <summary>
/// DoRA (weight-decomposed LoRA, <c>use_dora</c>) as PEFT 0.20.0 computes it (<c>tuners/lora/dora.py</c>,
/// <c>variants.py</c>) for Linear and Conv2d: with V = W + s·B·A and n = ‖V‖ per output channel, the layer computes
/// <c>(m / n) · V</c>, i.e. <c>y = base(x) + (m/n − 1)·(x ⊛ W) + (m/n)·s·B(A(x))</c> (bias added once). n is a constant
/// for backprop (PEFT detaches it, DoRA paper §4.3), so gradients equal PEFT's. The magnitude m starts as n.
/// </summary>
internal sealed class DoraVariant : LoraVariant
{
    /// <summary>PEFT's container name; the saved key is <c>&lt;module&gt;.lora_magnitude_vector</c> (no <c>.weight</c>).</summary>
    private const string Container = "lora_magnitude_vector";

    public override string Name => "DoRA";

    public override string ConfigField => "use_dora";

    internal override void Init(LoraLayer layer, string adapterName)
    {
        if (layer.Geometry.IsConv && layer.Geometry.Groups > 1)
            throw new NotSupportedException($"DoRA is not supported for Conv2d '{layer.ModuleName}' with groups > 1 (its weight norm needs the merged weight).");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var delta = layer.LoraDelta(adapterName);
        var norm = Norm(layer, layer.BaseWeight.to_type(delta.dtype).Add(delta));
        layer.VariantContainer(Container).Add(adapterName, new DoraMagnitude(norm.detach().clone()));
    }

    internal override IEnumerable<AdapterTensor> TensorsOf(LoraLayer layer, string adapterName)
    {
        yield return new AdapterTensor(Container, "weight", Magnitude(layer, adapterName).Weight, SuffixSaved: false);
    }

    internal override Tensor Forward(LoraLayer layer, string adapterName, Tensor x, Tensor baseOutput)
    {
        using var scope = NewDisposeScope();
        var g = layer.Geometry;
        double scaling = layer.Scaling(adapterName);
        var weight = layer.BaseWeight.to_type(x.dtype);
        var magnitude = Magnitude(layer, adapterName).Weight;
        Tensor norm;
        using (no_grad()) norm = Norm(layer, weight.Add(layer.LoraDelta(adapterName).to_type(x.dtype)));
        var scale = magnitude.div(norm);
        if (!g.IsConv) scale = scale.view(1, -1);

        Tensor input, baseResult;
        if (!layer.HasDropout(adapterName) || !layer.training)
        {
            input = x;
            baseResult = baseOutput.to_type(x.dtype);
            if (layer.BaseBias is { } bias) baseResult = baseResult.Add(bias.to_type(x.dtype).view(g.IsConv ? [1, -1, 1, 1] : [-1]).neg());
        }
        else
        {
            // With a real dropout PEFT recomputes the base product on the dropped-out input (no bias).
            input = layer.LoraDropout(adapterName).call(x);
            baseResult = g.Apply(input, weight);
        }
        var lora = layer.LoraB(adapterName).call(layer.LoraA(adapterName).call(input));
        var result = scale.Sub(1.0).mul(baseResult).Add(scale.mul(lora).Mul(scaling));
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>PEFT's merge: W ← (m / ‖W + ΔW‖)·(W + ΔW), returned as the change to <paramref name="weight"/>.</summary>
    internal override Tensor DeltaWeight(LoraLayer layer, string adapterName, Tensor weight) => MergeChange(layer, adapterName, weight, out _);

    internal override Tensor MergeDelta(LoraLayer layer, string adapterName, Tensor weight)
    {
        var change = MergeChange(layer, adapterName, weight, out var norm);
        Magnitude(layer, adapterName).SetMergedNorm(norm);
        norm.Dispose();
        return change;
    }

    /// <summary>PEFT's unmerge: W ← W' / (m / n) − ΔW with the n recorded at the merge, returned as the change to <paramref name="weight"/>.</summary>
    internal override Tensor UnmergeDelta(LoraLayer layer, string adapterName, Tensor weight)
    {
        var state = Magnitude(layer, adapterName);
        var norm = state.MergedNorm ?? throw new InvalidOperationException($"DoRA adapter '{adapterName}' of '{layer.ModuleName}' is not merged.");
        using var scope = NewDisposeScope();
        var factor = PerRow(layer, state.Weight.detach().div(norm));
        var restored = weight.div(factor).Add(layer.LoraDelta(adapterName).neg());
        var change = restored.Add(weight.neg());
        state.SetMergedNorm(null);
        return change.MoveToOuterDisposeScope();
    }

    private static Tensor MergeChange(LoraLayer layer, string adapterName, Tensor weight, out Tensor norm)
    {
        using var scope = NewDisposeScope();
        var combined = weight.Add(layer.LoraDelta(adapterName).to_type(weight.dtype));
        var n = Norm(layer, combined).detach();
        var factor = PerRow(layer, Magnitude(layer, adapterName).Weight.detach().div(n));
        var change = factor.mul(combined).Add(weight.neg());
        norm = n.MoveToOuterDisposeScope();
        return change.MoveToOuterDisposeScope();
    }

    /// <summary>‖V‖ per output channel, shaped like the magnitude: Linear <c>[out]</c>, Conv2d <c>[1, out, 1, 1]</c> (PEFT's transpose).</summary>
    private static Tensor Norm(LoraLayer layer, Tensor combined) => layer.Geometry.IsConv
        ? combined.reshape(combined.shape[0], -1).norm(1).view(1, -1, 1, 1)
        : combined.norm(1);

    /// <summary>A per-output-channel factor shaped to scale the rows of the weight.</summary>
    private static Tensor PerRow(LoraLayer layer, Tensor factor) => layer.Geometry.IsConv ? factor.view(-1, 1, 1, 1) : factor.view(-1, 1);

    private static DoraMagnitude Magnitude(LoraLayer layer, string adapterName) => (DoraMagnitude)layer.VariantContainer(Container)[adapterName];
}
