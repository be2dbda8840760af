using Peft.Typed.Models.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.LoHa;

/// <summary>
/// PEFT's <c>loha.Linear</c> / <c>loha.Conv2d</c>: ΔW = (w1_a·w1_b) ⊙ (w2_a·w2_b) · alpha / r, reshaped to the base
/// weight; with <c>use_effective_conv2d</c> on a k×k convolution each factor is a Tucker product
/// <c>einsum("ijkl,jr,ip->prkl", t, w_b, w_a)</c>. Gradients come from autograd (PEFT's hand-written backward for
/// the Tucker form is wrong for <c>hada_w1_a</c>/<c>hada_w2_a</c>).
/// </summary>
public sealed class LoHaLayer : LycorisLayer
{
    private readonly AdapterParameterDict hada_w1_a = new();
    private readonly AdapterParameterDict hada_w1_b = new();
    private readonly AdapterParameterDict hada_w2_a = new();
    private readonly AdapterParameterDict hada_w2_b = new();
    private readonly AdapterParameterDict hada_t1 = new();
    private readonly AdapterParameterDict hada_t2 = new();

    public LoHaLayer(nn.Module<Tensor, Tensor> baseLayer, string moduleName) : base("LoHaLayer", baseLayer, moduleName)
    {
        RegisterComponents();
    }

    /// <summary>True when the adapter uses the Tucker ("effective conv2d") form.</summary>
    public bool IsTucker(string adapterName) => hada_t1.Contains(adapterName);

    /// <summary>PEFT's <c>update_layer</c>: creates and initialises the adapter's factors.</summary>
    internal void UpdateLayer(string adapterName, int r, double alpha, LoHaConfig config)
    {
        RegisterAdapter(adapterName, r, alpha, alpha / r);
        RegisterDropout(adapterName, config.RankDropout, config.ModuleDropout, rescale: true);
        var g = Geometry;
        long inFeatures = g.InFeatures / g.Groups;
        if (g.IsConv && config.UseEffectiveConv2d && !g.IsPointwise)
        {
            long kh = g.KernelSize[0], kw = g.KernelSize[1];
            hada_w1_a.Add(adapterName, NewParameter(r, g.OutFeatures));
            hada_w1_b.Add(adapterName, NewParameter(r, inFeatures));
            hada_w2_a.Add(adapterName, NewParameter(r, g.OutFeatures));
            hada_w2_b.Add(adapterName, NewParameter(r, inFeatures));
            hada_t1.Add(adapterName, NewParameter(r, r, kh, kw));
            hada_t2.Add(adapterName, NewParameter(r, r, kh, kw));
        }
        else
        {
            long columns = g.IsConv ? inFeatures * g.KernelSize[0] * g.KernelSize[1] : inFeatures;
            hada_w1_a.Add(adapterName, NewParameter(g.OutFeatures, r));
            hada_w1_b.Add(adapterName, NewParameter(r, columns));
            hada_w2_a.Add(adapterName, NewParameter(g.OutFeatures, r));
            hada_w2_b.Add(adapterName, NewParameter(r, columns));
        }
        foreach (var tensor in TensorsOf(adapterName)) KaimingUniform(tensor.Parameter);
        if (config.InitWeights) Zero(hada_w2_b[adapterName]);
        SetAdapter(ActiveAdapters);
    }

    public override IEnumerable<AdapterTensor> TensorsOf(string adapterName)
    {
        yield return new AdapterTensor("hada_w1_a", null, hada_w1_a[adapterName]);
        yield return new AdapterTensor("hada_w1_b", null, hada_w1_b[adapterName]);
        yield return new AdapterTensor("hada_w2_a", null, hada_w2_a[adapterName]);
        yield return new AdapterTensor("hada_w2_b", null, hada_w2_b[adapterName]);
        if (!IsTucker(adapterName)) yield break;
        yield return new AdapterTensor("hada_t1", null, hada_t1[adapterName]);
        yield return new AdapterTensor("hada_t2", null, hada_t2[adapterName]);
    }

    protected override Tensor BuildDeltaWeight(string adapterName)
    {
        using var scope = NewDisposeScope();
        Tensor w1, w2;
        if (IsTucker(adapterName))
        {
            w1 = einsum("ijkl,jr,ip->prkl", hada_t1[adapterName], hada_w1_b[adapterName], hada_w1_a[adapterName]);
            w2 = einsum("ijkl,jr,ip->prkl", hada_t2[adapterName], hada_w2_b[adapterName], hada_w2_a[adapterName]);
        }
        else
        {
            w1 = hada_w1_a[adapterName].matmul(hada_w1_b[adapterName]);
            w2 = hada_w2_a[adapterName].matmul(hada_w2_b[adapterName]);
        }
        var delta = (w1 * w2).Mul(Scaling(adapterName)).reshape(Geometry.WeightShape);
        return delta.MoveToOuterDisposeScope();
    }

    protected override void RemoveAdapterTensors(string adapterName)
    {
        base.RemoveAdapterTensors(adapterName);
        hada_w1_a.Remove(adapterName);
        hada_w1_b.Remove(adapterName);
        hada_w2_a.Remove(adapterName);
        hada_w2_b.Remove(adapterName);
        hada_t1.Remove(adapterName);
        hada_t2.Remove(adapterName);
    }
}
