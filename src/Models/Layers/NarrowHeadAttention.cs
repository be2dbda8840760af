using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>
/// <c>scaled_dot_product_attention(q, k, v)</c> (no mask, no dropout, scale 1/√d) for float32 CPU heads up to
/// <see cref="MaxHeadDim"/> wide, with <see cref="NarrowHeadAttentionKernels"/>' forward and backward. libtorch's CPU
/// flash attention runs its blocks through general matrix products whose inner dimension is the head width; at 16 its
/// forward and backward reached 43 % and 34 % of the machine's matmul rate, nearly half of a UNet training step whose
/// first level has heads of 16 (docs/perf.md, "A fused attention for narrow heads").
/// </summary>
internal sealed unsafe class NarrowHeadAttention : autograd.SingleTensorFunction<NarrowHeadAttention>
{
    /// <summary>
    /// The widest head this path takes: with 512-bit vectors it was faster than libtorch's kernel, forward and
    /// backward, at every width measured from 8 to 160 (SD 1.5's widest); with 256-bit vectors only up to 16
    /// (docs/perf.md, NarrowHeadAttentionBenchmarks).
    /// </summary>
    internal static long MaxHeadDim => NarrowHeadAttentionKernels.WideSupported ? 160 : 16;

    public override string Name => nameof(NarrowHeadAttention);

    /// <summary>True where this path computes the attention of [B, heads, tokens, d] query, key and value.</summary>
    public static bool Handles(Tensor query, Tensor key, Tensor value)
    {
        if (!NarrowHeadAttentionKernels.Supported) return false;
        foreach (var t in (ReadOnlySpan<Tensor>)[query, key, value])
            if (t.device_type != DeviceType.CPU || t.dtype != ScalarType.Float32 || t.dim() != 4) return false;
        long d = query.shape[3];
        return d % 8 == 0 && d <= MaxHeadDim
            && key.shape[3] == d && value.shape[3] == d
            && key.shape[0] == query.shape[0] && key.shape[1] == query.shape[1]
            && value.shape[0] == query.shape[0] && value.shape[1] == query.shape[1] && value.shape[2] == key.shape[2]
            && key.shape[2] > 0 && (long)query.shape[0] * query.shape[1] * Math.Max(query.shape[2], key.shape[2]) * d < int.MaxValue;
    }

    public static Tensor Apply(Tensor query, Tensor key, Tensor value)
    {
        using var scope = NewDisposeScope();
        var (q, k, v) = (query.contiguous(), key.contiguous(), value.contiguous());
        // Without gradients (inference) the kernel runs alone: no graph node, nothing saved.
        var output = is_grad_enabled() && (q.requires_grad || k.requires_grad || v.requires_grad) ? apply(q, k, v) : Forward(q, k, v).Output;
        return output.MoveToOuterDisposeScope();
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (q, k, v) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2]);
        var (output, lse) = Forward(q, k, v);
        // The output is saved detached: the context holding its own output would keep the node alive through itself.
        ctx.save_for_backward([q.detach(), k.detach(), v.detach(), output.detach(), lse]);
        return output;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var saved = ctx.get_saved_variables();
        var (dq, dk, dv) = Backward(saved[0], saved[1], saved[2], saved[3], saved[4], gradOutput);
        foreach (var tensor in saved) tensor.Dispose();
        return [dq, dk, dv];
    }

    /// <summary>The kernels' forward on contiguous [B, heads, tokens, d] tensors: output and per-row log-sum-exp.</summary>
    internal static (Tensor Output, Tensor Lse) Forward(Tensor q, Tensor k, Tensor v, int? threads = null, NarrowHeadAttentionKernels.VectorWidth? width = null)
    {
        var (units, n, m, d) = Dimensions(q, k);
        var output = empty_like(q);
        var lse = empty(q.shape[0], q.shape[1], n, dtype: ScalarType.Float32);
        fixed (byte* qp = q.bytes, kp = k.bytes, vp = v.bytes, op = output.bytes, lp = lse.bytes)
            NarrowHeadAttentionKernels.Forward((float*)qp, (float*)kp, (float*)vp, (float*)op, (float*)lp, units, n, m, d,
                Scale(d), threads ?? get_num_threads(), width ?? NarrowHeadAttentionKernels.WidthFor(d));
        return (output, lse);
    }

    /// <summary>The kernels' backward: the gradients of q, k and v from <see cref="Forward"/>'s output, lse and the output gradient.</summary>
    internal static (Tensor Dq, Tensor Dk, Tensor Dv) Backward(Tensor q, Tensor k, Tensor v, Tensor o, Tensor lse, Tensor gradOutput,
        int? threads = null, NarrowHeadAttentionKernels.VectorWidth? width = null)
    {
        var (units, n, m, d) = Dimensions(q, k);
        var dq = empty_like(q);
        var dk = empty_like(k);
        var dv = empty_like(v);
        using (var g = gradOutput.contiguous())
        fixed (byte* qp = q.bytes, kp = k.bytes, vp = v.bytes, op = o.bytes, lp = lse.bytes, gp = g.bytes,
               dqp = dq.bytes, dkp = dk.bytes, dvp = dv.bytes)
            NarrowHeadAttentionKernels.Backward((float*)qp, (float*)kp, (float*)vp, (float*)op, (float*)lp, (float*)gp,
                (float*)dqp, (float*)dkp, (float*)dvp, units, n, m, d, Scale(d), threads ?? get_num_threads(), width ?? NarrowHeadAttentionKernels.WidthFor(d));
        return (dq, dk, dv);
    }

    private static (int Units, int N, int M, int D) Dimensions(Tensor q, Tensor k) =>
        ((int)(q.shape[0] * q.shape[1]), (int)q.shape[2], (int)k.shape[2], (int)q.shape[3]);

    private static float Scale(int d) => (float)(1.0 / Math.Sqrt(d));
}
