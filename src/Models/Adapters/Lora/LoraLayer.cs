using Peft.Typed.Models.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Lora;

/// <summary>
/// PEFT's <c>lora.Linear</c> / <c>lora.Conv2d</c>: <c>base_layer(x) + scaling · lora_B(lora_A(dropout(x)))</c>.
/// For a convolution <c>lora_A</c> is a Conv2d(in, r) with the base kernel, stride and padding and <c>lora_B</c> a
/// 1×1 Conv2d(r, out) with the base groups.
/// </summary>
public sealed class LoraLayer : AdapterLayer
{
    private readonly AdapterModuleDict<nn.Module<Tensor, Tensor>> lora_dropout = new();
    private readonly AdapterModuleDict<nn.Module<Tensor, Tensor>> lora_A = new();
    private readonly AdapterModuleDict<nn.Module<Tensor, Tensor>> lora_B = new();

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
        SetAdapter(ActiveAdapters);
    }

    public override IEnumerable<AdapterTensor> TensorsOf(string adapterName)
    {
        yield return new AdapterTensor("lora_A", "weight", WeightA(adapterName));
        yield return new AdapterTensor("lora_B", "weight", WeightB(adapterName));
    }

    /// <summary>scaling · B·A, reshaped to the base weight (PEFT cannot merge grouped convolutions, nor can this).</summary>
    public override Tensor GetDeltaWeight(string adapterName)
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

    /// <summary>
    /// Linear: the base layer runs on the [rows, in] view of x, so its output is a fresh [rows, out] tensor, and each
    /// branch is accumulated into it by one in-place <c>addmm_</c>: no full-size branch output and no separate
    /// addition (same sum as PEFT's <c>base_layer(x) + lora_B(lora_A(x))·scaling</c>). Convolutions, and branches
    /// whose dtype differs from a half-precision base output, add <see cref="AdapterOutput"/> as the base class does.
    /// </summary>
    protected override Tensor AdaptedForward(Tensor x, IReadOnlyList<string> adapters)
    {
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

    /// <summary>The convolution branch (Linear layers accumulate theirs in <see cref="AdaptedForward"/>).</summary>
    protected override Tensor? AdapterOutput(string adapterName, Tensor x)
    {
        x = BranchInput(adapterName, x);
        if (LoraConvBranch.Handles(Geometry, x))
            return LoraConvBranch.Forward(x, Geometry, WeightA(adapterName), WeightB(adapterName), Scaling(adapterName));
        return lora_B[adapterName].call(lora_A[adapterName].call(x)).Mul(Scaling(adapterName));
    }

    /// <summary>What enters <c>lora_A</c>: the input in the adapter's dtype, through the adapter's dropout.</summary>
    private Tensor BranchInput(string adapterName, Tensor x)
    {
        var dtype = WeightA(adapterName).dtype;
        return lora_dropout[adapterName].call(x.dtype == dtype ? x : x.to_type(dtype));
    }

    protected override void RemoveAdapterTensors(string adapterName)
    {
        lora_dropout.Remove(adapterName);
        lora_A.Remove(adapterName);
        lora_B.Remove(adapterName);
    }

    private static Parameter Weight(nn.Module<Tensor, Tensor> module) => module switch
    {
        Linear linear => linear.weight,
        Conv2d conv => conv.weight,
        _ => throw new InvalidOperationException($"Unexpected LoRA module {module.GetType().Name}."),
    };
}
