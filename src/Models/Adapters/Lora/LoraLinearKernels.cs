using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static Peft.Typed.Models.Adapters.Lora.LoraVectors;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Lora;

/// <summary>
/// Both factors' gradients of a merged LoRA Linear layer (<see cref="MergedLoraFunction"/>) from one read of the output
/// gradient g [rows, out] and the input x [rows, in]: z's gradient s·g·B, lora_B's s·gᵀz and lora_A's (s·g·B)ᵀx.
/// Through libtorch these were three products and their copies, reading g twice and each a call of its own; each
/// product has r (8) outputs per row of a full-size operand, so all three run at memory speed. Rows run in chunks of
/// <see cref="ChunkRows"/> whose partial sums are added in chunk order, so results do not depend on the thread count.
/// </summary>
internal static unsafe class LoraLinearKernels
{
    private const int L = 8;
    private const int ChunkRows = 256;

    /// <summary>True for float32 CPU tensors on a CPU with AVX2 and FMA.</summary>
    public static bool Handles(Tensor x) =>
        Supported && x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float32;

    /// <summary>(lora_A's gradient [r, in], lora_B's gradient [out, r]) from x [.., in], z = x·Aᵀ [rows, r] and g [.., out].</summary>
    public static (Tensor GradA, Tensor GradB) FactorGrads(Tensor x, Tensor z, Tensor weightB, double scaling, Tensor gradOutput, int? threads = null)
    {
        int r = (int)z.shape[1], outFeatures = (int)weightB.shape[0];
        using var x2 = x.reshape(-1, x.shape[^1]).contiguous();
        using var g2 = gradOutput.reshape(-1, outFeatures).contiguous();
        using var zc = z.contiguous();
        using var b = weightB.contiguous();
        int rows = (int)x2.shape[0], inFeatures = (int)x2.shape[1];
        var gradA = empty(r, inFeatures, dtype: ScalarType.Float32);
        var gradB = empty(outFeatures, r, dtype: ScalarType.Float32);
        fixed (byte* xp = x2.bytes, gp = g2.bytes, zp = zc.bytes, bp = b.bytes, gap = gradA.bytes, gbp = gradB.bytes)
            FactorGrads((float*)xp, (float*)gp, (float*)zp, (float*)bp, (float)scaling, (float*)gap, (float*)gbp,
                new Shape(rows, inFeatures, outFeatures, r), threads ?? get_num_threads());
        return (gradA, gradB);
    }

    /// <summary>Rows, in and out features, rank; rows of partial sums are padded to whole vectors.</summary>
    private readonly record struct Shape(int Rows, int In, int Out, int R)
    {
        public int Rp => (R + L - 1) / L * L;
        public int InV => (In + L - 1) / L * L;
        public int OutV => (Out + L - 1) / L * L;
        public int Chunks => (Rows + ChunkRows - 1) / ChunkRows;
    }

    private static void FactorGrads(float* x, float* g, float* z, float* b, float scaling, float* ga, float* gb, Shape s, int threads)
    {
        long bSize = (long)s.Rp * s.OutV, aSize = (long)s.Rp * s.InV;
        // s·B transposed: [rp][OutV], zero past r and past out.
        float* bt = AllocZeroed(bSize);
        float* partB = AllocZeroed(s.Chunks * bSize);
        float* partA = AllocZeroed(s.Chunks * aSize);
        try
        {
            for (int o = 0; o < s.Out; o++)
            {
                for (int q = 0; q < s.R; q++) bt[(long)q * s.OutV + o] = scaling * b[(long)o * s.R + q];
            }
            Parallel.For(0, s.Chunks, Options(threads), chunk =>
            {
                int first = chunk * ChunkRows, last = Math.Min(s.Rows, first + ChunkRows);
                float* pb = partB + chunk * bSize, pa = partA + chunk * aSize;
                for (int row = first; row < last; row += 2)
                {
                    bool pair = row + 1 < last;
                    for (int block = 0; block < s.Rp / L; block++) RowPair(x, g, z, bt, pb, pa, s, row, pair, block);
                }
            });
            for (int o = 0; o < s.Out; o++)
            {
                for (int q = 0; q < s.R; q++)
                {
                    float sum = 0f;
                    for (int chunk = 0; chunk < s.Chunks; chunk++) sum += partB[chunk * bSize + (long)q * s.OutV + o];
                    gb[(long)o * s.R + q] = scaling * sum;
                }
            }
            for (int q = 0; q < s.R; q++)
            {
                for (int k = 0; k < s.In; k++)
                {
                    float sum = 0f;
                    for (int chunk = 0; chunk < s.Chunks; chunk++) sum += partA[chunk * aSize + (long)q * s.InV + k];
                    ga[(long)q * s.In + k] = sum;
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(bt);
            NativeMemory.AlignedFree(partB);
            NativeMemory.AlignedFree(partA);
        }
    }

    /// <summary>
    /// Rows row and row + 1 (one row where <paramref name="pair"/> is false: the second's weights are 0), one block of
    /// 8 rank channels: their z gradients gz = g·(s·B) (dot products with the rows of bt), then lora_B's partial sums
    /// pb[q] += z[., q]·g and lora_A's pa[q] += gz[., q]·x.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowPair(float* x, float* g, float* z, float* bt, float* pb, float* pa, Shape s, int row, bool pair, int block)
    {
        int outFeatures = s.Out, outV = s.OutV, inFeatures = s.In, inV = s.InV, r = s.R;
        float* g0 = g + (long)row * outFeatures, g1 = pair ? g0 + outFeatures : g0;
        float* x0 = x + (long)row * inFeatures, x1 = pair ? x0 + inFeatures : x0;
        float* btb = bt + (long)block * L * outV;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int o = 0; o < outFeatures; o += L)
        {
            var tail = Lanes(o, outFeatures);
            bool full = o + L <= outFeatures;
            var u = full ? Avx.LoadVector256(g0 + o) : Avx.MaskLoad(g0 + o, tail);
            var v = full ? Avx.LoadVector256(g1 + o) : Avx.MaskLoad(g1 + o, tail);
            float* bo = btb + o;
            var e = Avx.LoadVector256(bo); a0 = Fma.MultiplyAdd(u, e, a0); c0 = Fma.MultiplyAdd(v, e, c0);
            e = Avx.LoadVector256(bo + outV); a1 = Fma.MultiplyAdd(u, e, a1); c1 = Fma.MultiplyAdd(v, e, c1);
            e = Avx.LoadVector256(bo + 2 * outV); a2 = Fma.MultiplyAdd(u, e, a2); c2 = Fma.MultiplyAdd(v, e, c2);
            e = Avx.LoadVector256(bo + 3 * outV); a3 = Fma.MultiplyAdd(u, e, a3); c3 = Fma.MultiplyAdd(v, e, c3);
            e = Avx.LoadVector256(bo + 4 * outV); a4 = Fma.MultiplyAdd(u, e, a4); c4 = Fma.MultiplyAdd(v, e, c4);
            e = Avx.LoadVector256(bo + 5 * outV); a5 = Fma.MultiplyAdd(u, e, a5); c5 = Fma.MultiplyAdd(v, e, c5);
            e = Avx.LoadVector256(bo + 6 * outV); a6 = Fma.MultiplyAdd(u, e, a6); c6 = Fma.MultiplyAdd(v, e, c6);
            e = Avx.LoadVector256(bo + 7 * outV); a7 = Fma.MultiplyAdd(u, e, a7); c7 = Fma.MultiplyAdd(v, e, c7);
        }
        float* gz = stackalloc float[2 * L];
        float* zs = stackalloc float[2 * L];
        Avx.Store(gz, Sums(a0, a1, a2, a3, a4, a5, a6, a7));
        Avx.Store(gz + L, Sums(c0, c1, c2, c3, c4, c5, c6, c7));
        for (int q = 0; q < L; q++)
        {
            int channel = block * L + q;
            zs[q] = channel < r ? z[(long)row * r + channel] : 0f;
            zs[L + q] = pair && channel < r ? z[(long)(row + 1) * r + channel] : 0f;
            if (!pair) gz[L + q] = 0f;
        }
        Accumulate(g0, g1, zs, pb + (long)block * L * outV, outFeatures, outV);
        Accumulate(x0, x1, gz, pa + (long)block * L * inV, inFeatures, inV);
    }

    /// <summary>p[q] += w[q]·u + w[8 + q]·v for q = 0..7 over a row of n (p's rows padded to nv; lanes past n add 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(float* u0, float* v0, float* w, float* p, int n, int nv)
    {
        var w0 = Vector256.Create(w[0]); var w1 = Vector256.Create(w[1]); var w2 = Vector256.Create(w[2]); var w3 = Vector256.Create(w[3]);
        var w4 = Vector256.Create(w[4]); var w5 = Vector256.Create(w[5]); var w6 = Vector256.Create(w[6]); var w7 = Vector256.Create(w[7]);
        var y0 = Vector256.Create(w[8]); var y1 = Vector256.Create(w[9]); var y2 = Vector256.Create(w[10]); var y3 = Vector256.Create(w[11]);
        var y4 = Vector256.Create(w[12]); var y5 = Vector256.Create(w[13]); var y6 = Vector256.Create(w[14]); var y7 = Vector256.Create(w[15]);
        for (int k = 0; k < n; k += L)
        {
            bool full = k + L <= n;
            var tail = Lanes(k, n);
            var u = full ? Avx.LoadVector256(u0 + k) : Avx.MaskLoad(u0 + k, tail);
            var v = full ? Avx.LoadVector256(v0 + k) : Avx.MaskLoad(v0 + k, tail);
            float* pk = p + k;
            Avx.Store(pk, Fma.MultiplyAdd(y0, v, Fma.MultiplyAdd(w0, u, Avx.LoadVector256(pk))));
            Avx.Store(pk + nv, Fma.MultiplyAdd(y1, v, Fma.MultiplyAdd(w1, u, Avx.LoadVector256(pk + nv))));
            Avx.Store(pk + 2 * nv, Fma.MultiplyAdd(y2, v, Fma.MultiplyAdd(w2, u, Avx.LoadVector256(pk + 2 * nv))));
            Avx.Store(pk + 3 * nv, Fma.MultiplyAdd(y3, v, Fma.MultiplyAdd(w3, u, Avx.LoadVector256(pk + 3 * nv))));
            Avx.Store(pk + 4 * nv, Fma.MultiplyAdd(y4, v, Fma.MultiplyAdd(w4, u, Avx.LoadVector256(pk + 4 * nv))));
            Avx.Store(pk + 5 * nv, Fma.MultiplyAdd(y5, v, Fma.MultiplyAdd(w5, u, Avx.LoadVector256(pk + 5 * nv))));
            Avx.Store(pk + 6 * nv, Fma.MultiplyAdd(y6, v, Fma.MultiplyAdd(w6, u, Avx.LoadVector256(pk + 6 * nv))));
            Avx.Store(pk + 7 * nv, Fma.MultiplyAdd(y7, v, Fma.MultiplyAdd(w7, u, Avx.LoadVector256(pk + 7 * nv))));
        }
    }
}
