using Peft.Typed.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Lora;

/// <summary>
/// One LoRA layer's training step with the adapter merged into the base weight:
/// <c>y = conv(x; W + scaling·B·A)</c> (or <c>linear</c>), which equals PEFT's <c>base_layer(x) + scaling·lora_B(lora_A(x))</c> up to
/// rounding. In PEFT's order the branch writes a full-size output and adds it in forward, and in backward sends a
/// full-size gradient back through lora_A to the input and adds it there: memory-bound passes that cost several times
/// the branch's share of the FLOPs on CPU. Here the merged weight is built without gradient (<see cref="LoraMergeKernel"/>)
/// and libtorch's own convolution runs with it (its backward is the input gradient the frozen layer needs anyway, and
/// the bias gradient if the bias trains); an identity node on its output receives the output gradient g and gives the
/// factors theirs from the r-channel <c>z = lora_A(x)</c> formed before the base layer runs: <c>∂B = s·g zᵀ</c>,
/// <c>∂A = (s·Bᵀg) ⋆ x</c> (<see cref="LoraConvKernels"/> for convolutions that keep their size). On a Linear
/// layer the branch is already accumulated in place (LoraLayer's <c>addmm_</c>); merging still saves its forward
/// accumulation and, in backward, the branch's input gradient and its addition to the base's.
/// </summary>
internal sealed class MergedLoraFunction : autograd.SingleTensorFunction<MergedLoraFunction>
{
    public override string Name => nameof(MergedLoraFunction);

    /// <summary>
    /// True where this path is used: a CPU convolution <see cref="LoraConvBranch"/> handles, or a CPU Linear layer, whose
    /// output rows or pixels do more work in a separate branch than merging the weight costs: rows·(K + out) ≥ out·K
    /// multiply-adds, K being in (Linear) or in·kh·kw (so a full-size UNet's 8×8 level keeps PEFT's branch). A Linear
    /// layer also needs rows·(in + out) ≥ <see cref="MinimumLinearRowElements"/>.
    /// </summary>
    public static bool Pays(LayerGeometry geometry, Tensor x)
    {
        long k, rows;
        if (geometry.IsConv)
        {
            if (!LoraConvBranch.Handles(geometry, x)) return false;
            k = geometry.WeightShape.Skip(1).Aggregate(1L, (a, b) => a * b);
            var taps = LoraConvBranch.Taps.Of(geometry, x);
            rows = x.shape[0] * taps.OutH * taps.OutW;
        }
        else
        {
            if (x.device_type != DeviceType.CPU) return false;
            k = geometry.InFeatures;
            rows = x.numel() / k;
        }
        double rowElements = (double)rows * (k + geometry.OutFeatures);
        if (!geometry.IsConv && rowElements < MinimumLinearRowElements) return false;
        return rowElements >= (double)geometry.OutFeatures * k;
    }

    /// <summary>
    /// The node makes about ten TorchSharp calls more than PEFT's <c>addmm_</c> branch (the merge, the node's own
    /// callbacks); on a Linear layer whose input and output rows hold fewer elements than this they cost more than the
    /// passes merging saves (docs/perf.md: 16–64 K elements ran as fast or faster unmerged, 256 K faster merged). A
    /// small convolution still gains: its separate branch makes more calls than the merge.
    /// </summary>
    internal const long MinimumLinearRowElements = 1 << 17;

    public static Tensor Apply(Tensor x, LayerGeometry geometry, Tensor baseWeight, Tensor? baseBias, Tensor weightA, Tensor weightB, double scaling)
    {
        using var scope = NewDisposeScope();
        bool kernels = geometry.IsConv && LoraConvKernels.Handles(geometry, x);
        var input = kernels ? x.detach().contiguous() : x.detach();
        Tensor merged, z;
        using (no_grad())
        {
            merged = LoraMergeKernel.Handles(baseWeight, weightA, weightB)
                ? LoraMergeKernel.Merge(baseWeight, weightA, weightB, scaling)
                : baseWeight.Add(weightB.reshape(weightB.shape[0], weightB.shape[1]).matmul(weightA.reshape(weightA.shape[0], -1)).MulInPlace(scaling).view(baseWeight.shape));
            // lora_A's output before the base layer's: x has just been written by the layer before and is still in the cache.
            z = kernels ? LoraConvKernels.Down(input, weightA)
                : geometry.IsConv ? LoraConvBranch.Down(input, geometry, weightA)
                : input.reshape(-1, geometry.InFeatures).matmul(weightA.t());
        }
        var output = geometry.Apply(x, merged, baseBias);
        return apply(output, input, weightA, weightB, z, geometry, scaling, kernels).MoveToOuterDisposeScope();
    }

    /// <summary>Identity on the base output; saves what the factors' gradients need.</summary>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (output, x, a, b, z) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (Tensor)vars[3], (Tensor)vars[4]);
        ctx.save_data("geometry", vars[5]);
        ctx.save_data("scaling", vars[6]);
        ctx.save_data("kernels", vars[7]);
        ctx.save_for_backward([x, a, b, z]);
        return output;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var geometry = (LayerGeometry)ctx.get_data("geometry");
        var scaling = (double)ctx.get_data("scaling");
        var saved = ctx.get_saved_variables();
        var (x, a, b, z) = (saved[0], saved[1], saved[2], saved[3]);
        long outFeatures = geometry.OutFeatures, r = a.shape[0];
        Tensor gradA, gradB;
        using (var scope = NewDisposeScope())
        {
            if ((bool)ctx.get_data("kernels"))
            {
                (gradA, gradB) = LoraConvKernels.FactorGrads(x, z, a, b, scaling, gradOutput);
            }
            else if (geometry.IsConv)
            {
                long n = gradOutput.shape[0], pixels = gradOutput.shape[2] * gradOutput.shape[3];
                var g3 = gradOutput.reshape(n, outFeatures, pixels);
                gradB = g3.matmul(z.reshape(n, r, pixels).transpose(1, 2)).sum(0L).MulInPlace(scaling).view(b.shape);
                var gradZ = b.reshape(outFeatures, r).t().Mul(scaling).matmul(g3).view(z.shape);
                gradA = LoraConvBranch.DownWeightGrad(x, geometry, gradZ);
            }
            else if (LoraLinearKernels.Handles(x))
            {
                (gradA, gradB) = LoraLinearKernels.FactorGrads(x, z, b, scaling, gradOutput);
            }
            else
            {
                // z: [rows, r]. lora_B's gradient as zᵀ·g ([r, out]) and transposed: the tall [out, r] product gᵀ·z is
                // several times slower in MKL (LoraLayer's addmm_ note).
                var g2 = gradOutput.reshape(-1, outFeatures);
                gradB = z.t().matmul(g2).MulInPlace(scaling).t().contiguous();
                // g·(s·B) with s·B held as [r, out] and read transposed: on B's own [out, r] layout MKL took 2–2.4× as
                // long (16384×128 rows: 894–900 against 438 µs; 4096×1024: 1,942–1,962 against 1,023–1,088 µs).
                var gradZ = g2.matmul(b.t().Mul(scaling).contiguous().t());
                gradA = gradZ.t().matmul(x.reshape(-1, geometry.InFeatures));
            }
            gradA.MoveToOuterDisposeScope();
            gradB.MoveToOuterDisposeScope();
        }
        foreach (var tensor in saved) tensor.Dispose();
        // The output gradient passes through unchanged (a new handle: autograd owns the one it gave us).
        return [gradOutput.alias(), null!, gradA, gradB, null!, null!, null!, null!];
    }
}
