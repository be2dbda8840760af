using Peft.Typed.Models.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Lora;

/// <summary>
/// PEFT's <c>lora.Linear</c> / <c>lora.Conv2d</c>: <c>base_layer(x) + scaling · lora_B(lora_A(dropout(x)))</c>.
/// For a convolution <c>lora_A</c> is a Conv2d(in, r) with the base kernel, stride and padding and <c>lora_B</c> a
/// 1×1 Conv2d(r, out) with the base groups. An adapter whose config selects a <see cref="LoraVariant"/> (DoRA) runs,
/// merges and saves through that variant.
/// </summary>
public sealed class LoraLayer : AdapterLayer
{
    private readonly AdapterModuleDict<nn.Module<Tensor, Tensor>> lora_dropout = new();
    private readonly AdapterModuleDict<nn.Module<Tensor, Tensor>> lora_A = new();
    private readonly AdapterModuleDict<nn.Module<Tensor, Tensor>> lora_B = new();
    private readonly Dictionary<string, AdapterModuleDict<nn.Module>> _variantContainers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LoraVariant> _variants = new(StringComparer.Ordinal);

    public LoraLayer(nn.Module<Tensor, Tensor> baseLayer, string moduleName) : base("LoraLayer", baseLayer, moduleName)
    {
        if (Geometry.IsConv && Geometry.Dilation.Any(d => d != 1))
            throw new NotSupportedException($"Conv2d '{moduleName}' has dilation {string.Join("x", Geometry.Dilation)}; PEFT's LoRA conv path ignores dilation, so only dilation 1 is supported.");
        RegisterComponents();
    }

    /// <summary><c>lora_A[adapter].weight</c>: [r, in] or [r, in, kh, kw].</summary>
    public Parameter WeightA(string adapterName) => Weight(lora_A[adapterName]);

    /// <summary><c>lora_B[adapter].weight</c>: [out, r] or [out, r/groups, 1, 1].</summary>
    public Parameter WeightB(string adapterName) => Weight(lora_B[adapterName]);

    /// <summary>The variant adapter <paramref name="adapterName"/> uses, or null for plain LoRA.</summary>
    public LoraVariant? VariantOf(string adapterName) => _variants.GetValueOrDefault(adapterName);

    /// <summary>
    /// A per-adapter container for a variant's state, registered under <paramref name="name"/> on first use (so its
    /// tensors' keys read <c>&lt;name&gt;.&lt;adapter&gt;.…</c>, e.g. <c>lora_magnitude_vector.default.weight</c>).
    /// </summary>
    internal AdapterModuleDict<nn.Module> VariantContainer(string name)
    {
        if (!_variantContainers.TryGetValue(name, out var container))
        {
            container = new AdapterModuleDict<nn.Module>();
            register_module(name, container);
            _variantContainers.Add(name, container);
        }
        return container;
    }

    /// <summary><c>lora_A[adapter]</c>.</summary>
    internal nn.Module<Tensor, Tensor> LoraA(string adapterName) => lora_A[adapterName];

    /// <summary><c>lora_B[adapter]</c>.</summary>
    internal nn.Module<Tensor, Tensor> LoraB(string adapterName) => lora_B[adapterName];

    /// <summary><c>lora_dropout[adapter]</c> (an identity when the config's dropout is 0).</summary>
    internal nn.Module<Tensor, Tensor> LoraDropout(string adapterName) => lora_dropout[adapterName];

    /// <summary>True when the adapter's dropout is a real dropout (not an identity).</summary>
    internal bool HasDropout(string adapterName) => lora_dropout[adapterName] is not TorchSharp.Modules.Identity;

    /// <summary>The plain LoRA ΔW = scaling · B·A reshaped to the base weight (PEFT's <c>get_delta_weight</c>).</summary>
    internal Tensor LoraDelta(string adapterName)
    {
        var g = Geometry;
        if (g.IsConv && g.Groups > 1)
            throw new NotSupportedException($"Merging is not supported for Conv2d '{ModuleName}' with groups > 1 (as in PEFT).");
        using var scope = NewDisposeScope();
        var a = WeightA(adapterName);
        var b = WeightB(adapterName);
        var delta = b.reshape(b.shape[0], b.shape[1]).matmul(a.reshape(a.shape[0], -1)).reshape(g.WeightShape).Mul(Scaling(adapterName));
        return delta.MoveToOuterDisposeScope();
    }

    /// <summary>PEFT's <c>update_layer</c>: adds adapter <paramref name="adapterName"/> with rank <paramref name="r"/>.</summary>
    internal void UpdateLayer(string adapterName, int r, double alpha, LoraConfig config)
    {
        var g = Geometry;
        if (g.IsConv && r % g.Groups != 0)
            throw new NotSupportedException($"Conv2d '{ModuleName}' has groups={g.Groups} and rank {r}; LoRA needs a rank divisible by groups.");
        RegisterAdapter(adapterName, r, alpha, config.ScalingFor(r, alpha));

        var device = BaseWeight.device;
        var dtype = AdapterDType;
        nn.Module<Tensor, Tensor> a, b;
        if (g.IsConv)
        {
            a = nn.Conv2d(g.InFeatures, r, (g.KernelSize[0], g.KernelSize[1]), (g.Stride[0], g.Stride[1]), (g.Padding[0], g.Padding[1]), bias: false, device: device, dtype: dtype);
            b = nn.Conv2d(r, g.OutFeatures, (1, 1), (1, 1), groups: g.Groups, bias: false, device: device, dtype: dtype);
        }
        else
        {
            a = nn.Linear(g.InFeatures, r, hasBias: false, device: device, dtype: dtype);
            b = nn.Linear(r, g.OutFeatures, hasBias: false, device: device, dtype: dtype);
        }
        using (no_grad())
        {
            switch (config.InitLoraWeights)
            {
                case LoraInit.Default:
                    nn.init.kaiming_uniform_(Weight(a), a: Math.Sqrt(5));
                    nn.init.zeros_(Weight(b));
                    break;
                case LoraInit.Gaussian:
                    nn.init.normal_(Weight(a), std: 1.0 / r);
                    nn.init.zeros_(Weight(b));
                    break;
            }
        }
        lora_dropout.Add(adapterName, config.LoraDropout > 0 ? nn.Dropout(config.LoraDropout) : nn.Identity());
        lora_A.Add(adapterName, a);
        lora_B.Add(adapterName, b);
        if (config.Variant is { } variant)
        {
            _variants.Add(adapterName, variant);
            variant.Init(this, adapterName);
        }
        SetAdapter(ActiveAdapters);
    }

    public override IEnumerable<AdapterTensor> TensorsOf(string adapterName)
    {
        yield return new AdapterTensor("lora_A", "weight", WeightA(adapterName));
        yield return new AdapterTensor("lora_B", "weight", WeightB(adapterName));
        if (VariantOf(adapterName) is { } variant)
        {
            foreach (var tensor in variant.TensorsOf(this, adapterName)) yield return tensor;
        }
    }

    /// <summary>
    /// What merging adds to the unmerged base weight: scaling · B·A reshaped to the base weight, or the variant's change
    /// (PEFT cannot merge grouped convolutions, nor can this).
    /// </summary>
    public override Tensor GetDeltaWeight(string adapterName) =>
        VariantOf(adapterName) is { } variant ? variant.DeltaWeight(this, adapterName, BaseWeight) : LoraDelta(adapterName);

    protected override Tensor MergeDelta(string adapterName, Tensor weight) =>
        VariantOf(adapterName) is { } variant ? variant.MergeDelta(this, adapterName, weight) : LoraDelta(adapterName);

    protected override Tensor UnmergeDelta(string adapterName, Tensor weight) =>
        VariantOf(adapterName) is { } variant ? variant.UnmergeDelta(this, adapterName, weight) : LoraDelta(adapterName).neg();

    /// <summary>
    /// Linear: the base layer runs on the [rows, in] view of x, so its output is a fresh [rows, out] tensor, and each
    /// branch is accumulated into it by one in-place <c>addmm_</c>: no full-size branch output and no separate
    /// addition (same sum as PEFT's <c>base_layer(x) + lora_B(lora_A(x))·scaling</c>). A layer training one adapter runs
    /// with the merged weight where that pays (<see cref="TrainsMerged"/>); other convolutions, and branches
    /// whose dtype differs from a half-precision base output, add <see cref="AdapterOutput"/> as the base class does.
    /// </summary>
    protected override Tensor AdaptedForward(Tensor x, IReadOnlyList<string> adapters)
    {
        if (adapters.Any(_variants.ContainsKey)) return VariantForward(x, adapters);
        if (adapters.Count == 1 && TrainsMerged(adapters[0], x))
        {
            var adapter = adapters[0];
            return MergedLoraFunction.Apply(x, Geometry, BaseWeight, BaseBias, WeightA(adapter), WeightB(adapter), Scaling(adapter));
        }
        if (Geometry.IsConv) return base.AdaptedForward(x, adapters);
        var rows = x.reshape(-1, Geometry.InFeatures);
        var result = BaseLayer.call(rows);
        foreach (var adapter in adapters)
        {
            var low = lora_A[adapter].call(BranchInput(adapter, rows));
            // Row-major, so addmm_'s backward forms lora_B's gradient as lowᵀ·g ([r, out]) rather than (gᵀ·low)ᵀ, whose
            // tall [out, r] product MKL computes several times slower.
            var up = WeightB(adapter).Mul(Scaling(adapter)).t().contiguous();
            result = low.dtype == result.dtype ? result.addmm_(low, up) : result.AddInPlace(low.matmul(up).to_type(result.dtype));
        }
        return result.view([.. x.shape[..^1], Geometry.OutFeatures]);
    }

    /// <summary>
    /// While one plain LoRA adapter (no dropout) trains on a float32 layer with a frozen weight, the layer runs
    /// <see cref="MergedLoraFunction"/> where it pays; inference, several adapters, dropout, a half-precision base
    /// and a trainable base weight keep PEFT's order.
    /// </summary>
    private bool TrainsMerged(string adapterName, Tensor x)
    {
        var a = WeightA(adapterName);
        var b = WeightB(adapterName);
        return is_grad_enabled() && a.requires_grad && b.requires_grad && !BaseWeight.requires_grad
            && x.dtype == BaseWeight.dtype && a.dtype == BaseWeight.dtype && !HasDropout(adapterName)
            && MergedLoraFunction.Pays(Geometry, x);
    }

    /// <summary>
    /// <c>base_layer(x)</c> plus every adapter's output, variants given the base output (which stays unchanged, as
    /// each variant reads it).
    /// </summary>
    private Tensor VariantForward(Tensor x, IReadOnlyList<string> adapters)
    {
        var baseOutput = BaseLayer.call(x);
        var result = baseOutput;
        foreach (var adapter in adapters)
        {
            var output = VariantOf(adapter) is { } variant ? variant.Forward(this, adapter, CastInput(adapter, x), baseOutput) : AdapterOutput(adapter, x);
            if (output is null) continue;
            result = result.Add(output.dtype == result.dtype ? output : output.to_type(result.dtype));
        }
        return result;
    }

    /// <summary>The convolution branch (Linear layers accumulate theirs in <see cref="AdaptedForward"/>).</summary>
    protected override Tensor? AdapterOutput(string adapterName, Tensor x)
    {
        x = BranchInput(adapterName, x);
        if (LoraConvBranch.Handles(Geometry, x))
            return LoraConvBranch.Forward(x, Geometry, WeightA(adapterName), WeightB(adapterName), Scaling(adapterName));
        return lora_B[adapterName].call(lora_A[adapterName].call(x)).Mul(Scaling(adapterName));
    }

    /// <summary>What enters <c>lora_A</c>: the input in the adapter's dtype, through the adapter's dropout.</summary>
    private Tensor BranchInput(string adapterName, Tensor x) => lora_dropout[adapterName].call(CastInput(adapterName, x));

    /// <summary>The input in the adapter's dtype (PEFT's <c>_cast_input_dtype</c>).</summary>
    private Tensor CastInput(string adapterName, Tensor x)
    {
        var dtype = WeightA(adapterName).dtype;
        return x.dtype == dtype ? x : x.to_type(dtype);
    }

    protected override void RemoveAdapterTensors(string adapterName)
    {
        lora_dropout.Remove(adapterName);
        lora_A.Remove(adapterName);
        lora_B.Remove(adapterName);
        foreach (var container in _variantContainers.Values) container.Remove(adapterName);
        _variants.Remove(adapterName);
    }

    private static Parameter Weight(nn.Module<Tensor, Tensor> module) => module switch
    {
        Linear linear => linear.weight,
        Conv2d conv => conv.weight,
        _ => throw new InvalidOperationException($"Unexpected LoRA module {module.GetType().Name}."),
    };
}
