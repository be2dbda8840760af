using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static Peft.Typed.Models.Adapters.Lora.LoraVectors;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Lora;

/// <summary>
/// The merged weight W + s·B·A of a training step (<see cref="MergedLoraFunction"/>) in one pass over W. libtorch's
/// route (B·A into a new tensor, scaled in place, added to W into another) makes three passes over a tensor the size
/// of W for each adapted layer of every step, and W is most of a UNet's memory.
/// </summary>
internal static unsafe class LoraMergeKernel
{
    private const int L = 8;
    private const int RowsPerItem = 16;

    /// <summary>True for float32 CPU weights on a CPU with AVX2 and FMA.</summary>
    public static bool Handles(Tensor weight, Tensor weightA, Tensor weightB) =>
        Supported && weight.device_type == DeviceType.CPU
        && weight.dtype == ScalarType.Float32 && weightA.dtype == ScalarType.Float32 && weightB.dtype == ScalarType.Float32;

    /// <summary>W + scaling·B·A in W's shape, for W [out, …], A [r, …] (in·kh·kw elements per row) and B [out, r, …].</summary>
    public static Tensor Merge(Tensor weight, Tensor weightA, Tensor weightB, double scaling, int? threads = null)
    {
        using var w = weight.contiguous();
        using var a = weightA.contiguous();
        using var b = weightB.contiguous();
        int rows = (int)weight.shape[0], r = (int)weightA.shape[0];
        long k = weight.numel() / rows;
        var merged = empty_like(w);
        fixed (byte* wp = w.bytes, ap = a.bytes, bp = b.bytes, mp = merged.bytes)
            Merge((float*)wp, (float*)ap, (float*)bp, (float)scaling, (float*)mp, rows, k, r, threads ?? get_num_threads());
        return merged;
    }

    private static void Merge(float* w, float* a, float* b, float scaling, float* merged, int rows, long k, int r, int threads)
    {
        int items = (rows + RowsPerItem - 1) / RowsPerItem;
        Parallel.For(0, items, Options(threads), item =>
        {
            int last = Math.Min(rows, (item + 1) * RowsPerItem);
            for (int o = item * RowsPerItem; o < last; o++) MergeRow(w + o * k, a, b + (long)o * r, scaling, merged + o * k, k, r);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MergeRow(float* w, float* a, float* b, float scaling, float* merged, long k, int r)
    {
        long c = 0;
        for (; c + L <= k; c += L)
        {
            var sum = Vector256<float>.Zero;
            for (int q = 0; q < r; q++) sum = Fma.MultiplyAdd(Vector256.Create(b[q]), Avx.LoadVector256(a + q * k + c), sum);
            Avx.Store(merged + c, Fma.MultiplyAdd(Vector256.Create(scaling), sum, Avx.LoadVector256(w + c)));
        }
        for (; c < k; c++)
        {
            float sum = 0f;
            for (int q = 0; q < r; q++) sum += b[q] * a[q * k + c];
            merged[c] = w[c] + scaling * sum;
        }
    }
}
