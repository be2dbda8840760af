using Peft.Typed.Models.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.LoKr;

/// <summary>
/// PEFT's <c>lokr.Linear</c> / <c>lokr.Conv2d</c>: ΔW = kron(w1, w2) · alpha / r with out = out_l·out_k and
/// in/groups = in_m·in_n (<see cref="LoKrFactorization"/>). w1 [out_l, in_m] is full (<c>lokr_w1</c>) or, with
/// decompose_both and a small enough r, <c>lokr_w1_a</c>·<c>lokr_w1_b</c>; w2 [out_k, in_n(, kh, kw)] is full
/// (<c>lokr_w2</c>) when r ≥ max(out_k, in_n)/2, else <c>lokr_w2_a</c>·<c>lokr_w2_b</c> or, for a k×k convolution
/// with effective conv2d, the Tucker product <c>einsum("ijkl,ip,jr->prkl", t2, w2_a, w2_b)</c>.
/// </summary>
public sealed class LoKrLayer : LycorisLayer
{
    private readonly AdapterParameterDict lokr_w1 = new();
    private readonly AdapterParameterDict lokr_w1_a = new();
    private readonly AdapterParameterDict lokr_w1_b = new();
    private readonly AdapterParameterDict lokr_w2 = new();
    private readonly AdapterParameterDict lokr_w2_a = new();
    private readonly AdapterParameterDict lokr_w2_b = new();
    private readonly AdapterParameterDict lokr_t2 = new();

    public LoKrLayer(nn.Module<Tensor, Tensor> baseLayer, string moduleName) : base("LoKrLayer", baseLayer, moduleName)
    {
        RegisterComponents();
    }

    /// <summary>PEFT's <c>update_layer</c>: factorises the weight and creates the adapter's tensors.</summary>
    internal void UpdateLayer(string adapterName, int r, double alpha, LoKrConfig config)
    {
        var g = Geometry;
        var (inM, inN) = LoKrFactorization.Factorize(checked((int)(g.InFeatures / g.Groups)), config.DecomposeFactor);
        var (outL, outK) = LoKrFactorization.Factorize(checked((int)g.OutFeatures), config.DecomposeFactor);
        bool fullW1 = !(config.DecomposeBoth && r < Math.Max(outL, inM) / 2.0);
        bool fullW2 = r >= Math.Max(outK, inN) / 2.0;
        bool tucker = g.IsConv && config.UseEffectiveConv2d && !g.IsPointwise;

        RegisterAdapter(adapterName, r, alpha, alpha / r);
        RegisterDropout(adapterName, config.RankDropout, config.ModuleDropout, config.RankDropoutScale);
        if (fullW1)
        {
            lokr_w1.Add(adapterName, NewParameter(outL, inM));
        }
        else
        {
            lokr_w1_a.Add(adapterName, NewParameter(outL, r));
            lokr_w1_b.Add(adapterName, NewParameter(r, inM));
        }
        long[] kernel = g.IsConv ? g.KernelSize : [];
        if (fullW2)
        {
            lokr_w2.Add(adapterName, NewParameter([outK, inN, .. kernel]));
        }
        else if (tucker)
        {
            lokr_t2.Add(adapterName, NewParameter(r, r, kernel[0], kernel[1]));
            lokr_w2_a.Add(adapterName, NewParameter(r, outK));
            lokr_w2_b.Add(adapterName, NewParameter(r, inN));
        }
        else
        {
            lokr_w2_a.Add(adapterName, NewParameter(outK, r));
            lokr_w2_b.Add(adapterName, NewParameter(r, inN * kernel.Aggregate(1L, (a, b) => a * b)));
        }
        foreach (var tensor in TensorsOf(adapterName)) KaimingUniform(tensor.Parameter);
        switch (config.InitWeights)
        {
            case LoKrInit.Default:
                Zero(fullW1 ? lokr_w1[adapterName] : lokr_w1_a[adapterName]);
                break;
            case LoKrInit.Lycoris:
                Zero(fullW2 ? lokr_w2[adapterName] : lokr_w2_b[adapterName]);
                break;
        }
        SetAdapter(ActiveAdapters);
    }

    /// <summary>How w1 and w2 are stored for an adapter: "full", "w1_a@w1_b", "w2_a@w2_b" or "tucker(t2,w2_a,w2_b)".</summary>
    public (string W1, string W2) Form(string adapterName) => (
        lokr_w1.Contains(adapterName) ? "full" : "w1_a@w1_b",
        lokr_w2.Contains(adapterName) ? "full" : lokr_t2.Contains(adapterName) ? "tucker(t2,w2_a,w2_b)" : "w2_a@w2_b");

    public override IEnumerable<AdapterTensor> TensorsOf(string adapterName)
    {
        foreach (var (name, dict) in Containers())
        {
            if (dict.Contains(adapterName)) yield return new AdapterTensor(name, null, dict[adapterName]);
        }
    }

    protected override Tensor BuildDeltaWeight(string adapterName)
    {
        using var scope = NewDisposeScope();
        var w1 = lokr_w1.Contains(adapterName) ? lokr_w1[adapterName] : lokr_w1_a[adapterName].matmul(lokr_w1_b[adapterName]);
        Tensor w2 = lokr_w2.Contains(adapterName) ? lokr_w2[adapterName]
            : lokr_t2.Contains(adapterName) ? einsum("ijkl,ip,jr->prkl", lokr_t2[adapterName], lokr_w2_a[adapterName], lokr_w2_b[adapterName])
            : lokr_w2_a[adapterName].matmul(lokr_w2_b[adapterName]);
        if (w2.dim() == 4) w1 = w1.unsqueeze(2).unsqueeze(2);
        var delta = kron(w1, w2.contiguous()).Mul(Scaling(adapterName)).reshape(Geometry.WeightShape);
        return delta.MoveToOuterDisposeScope();
    }

    protected override void RemoveAdapterTensors(string adapterName)
    {
        base.RemoveAdapterTensors(adapterName);
        foreach (var (_, dict) in Containers()) dict.Remove(adapterName);
    }

    private IEnumerable<(string Name, AdapterParameterDict Dict)> Containers()
    {
        yield return ("lokr_w1", lokr_w1);
        yield return ("lokr_w1_a", lokr_w1_a);
        yield return ("lokr_w1_b", lokr_w1_b);
        yield return ("lokr_w2", lokr_w2);
        yield return ("lokr_w2_a", lokr_w2_a);
        yield return ("lokr_w2_b", lokr_w2_b);
        yield return ("lokr_t2", lokr_t2);
    }
}
