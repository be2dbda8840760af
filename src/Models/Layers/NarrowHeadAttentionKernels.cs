using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Peft.Typed.Models.Layers;

/// <summary>
/// Flash attention on the CPU (FlashAttention-2's blocking: online softmax in forward, the scores recomputed from the
/// saved log-sum-exp in backward), written for heads a few vectors wide. Every array is float32, row-major and
/// contiguous: queries [units, n, d], keys and values [units, m, d], one unit per batch element and head, d a multiple
/// of 8. Each output element is written by one thread in a fixed order, so results do not depend on the thread count.
/// </summary>
internal static unsafe class NarrowHeadAttentionKernels
{
    private const int QueryBlock = 64;
    // Keys per block: forward rescales each row's running sum and output once per block, so longer blocks pay less of
    // it (heads of 16, 4,096 tokens: forward 109–113 ms with 128 keys, 98–99 with 256, 91 with 512, 83–85 with 1,024);
    // backward keeps two blocks of scores (probabilities and their gradient) in the cache: 167–171 ms with 256 keys,
    // 171–203 with 512.
    private const int ForwardKeyBlock = 1024;
    private const int BackwardKeyBlock = 256;
    private const int Lanes = 8;

    public static bool Supported => Fma.IsSupported && Avx2.IsSupported;

    /// <summary>o = softmax(scale·q·kᵀ)·v and, per query row, lse = log Σ exp(scale·q·kᵀ).</summary>
    public static void Forward(float* q, float* k, float* v, float* o, float* lse, int units, int n, int m, int d, float scale, int threads)
    {
        int paddedKeys = RoundUp(m, 2 * Lanes);
        float* keysT = Alloc((long)units * d * paddedKeys);
        try
        {
            Parallel.For(0, units, Options(threads), unit =>
                Transpose(k + (long)unit * m * d, m, d, keysT + (long)unit * d * paddedKeys, paddedKeys));
            int queryBlocks = (n + QueryBlock - 1) / QueryBlock;
            Parallel.For(0, (long)units * queryBlocks, Options(threads), job =>
            {
                int unit = (int)(job / queryBlocks), r0 = (int)(job % queryBlocks) * QueryBlock;
                int rows = Math.Min(QueryBlock, n - r0);
                long qOffset = ((long)unit * n + r0) * d;
                ForwardBlock(q + qOffset, rows, k + (long)unit * m * d, v + (long)unit * m * d, m, d,
                    keysT + (long)unit * d * paddedKeys, paddedKeys, scale, o + qOffset, lse + (long)unit * n + r0);
            });
        }
        finally
        {
            NativeMemory.AlignedFree(keysT);
        }
    }

    /// <summary>
    /// The gradients of <see cref="Forward"/>'s o with respect to q, k and v, given the output gradient g, o and lse.
    /// dq, dk and dv are overwritten.
    /// </summary>
    public static void Backward(float* q, float* k, float* v, float* o, float* lse, float* g, float* dq, float* dk, float* dv,
        int units, int n, int m, int d, float scale, int threads)
    {
        Parallel.For(0, units, Options(threads), unit =>
        {
            long qOffset = (long)unit * n * d, kOffset = (long)unit * m * d;
            BackwardUnit(q + qOffset, k + kOffset, v + kOffset, o + qOffset, lse + (long)unit * n, g + qOffset,
                dq + qOffset, dk + kOffset, dv + kOffset, n, m, d, scale);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardBlock(float* q, int rows, float* k, float* v, int m, int d, float* keysT, int ldk, float scale, float* o, float* lse)
    {
        float* scores = Alloc((long)QueryBlock * ForwardKeyBlock + QueryBlock * (long)d + 2 * QueryBlock);
        float* acc = scores + QueryBlock * ForwardKeyBlock;
        float* max = acc + QueryBlock * d;
        float* sum = max + QueryBlock;
        try
        {
            new Span<float>(acc, rows * d).Clear();
            new Span<float>(max, rows).Fill(float.NegativeInfinity);
            new Span<float>(sum, rows).Clear();
            for (int c0 = 0; c0 < m; c0 += ForwardKeyBlock)
            {
                int cols = Math.Min(ForwardKeyBlock, m - c0);
                Scores(q, rows, d, keysT + c0, ldk, RoundUp(cols, 2 * Lanes), scores, ForwardKeyBlock);
                for (int i = 0; i < rows; i++)
                {
                    float* row = scores + i * ForwardKeyBlock;
                    float newMax = MathF.Max(max[i], scale * RowMax(row, cols));
                    float correction = MathF.Exp(max[i] - newMax);
                    sum[i] = sum[i] * correction + ExpInPlace(row, cols, scale, newMax);
                    max[i] = newMax;
                    if (correction != 1f) ScaleRow(acc + i * d, d, correction);
                }
                Accumulate(scores, ForwardKeyBlock, 1, rows, cols, v + (long)c0 * d, d, d, acc, d);
            }
            for (int i = 0; i < rows; i++)
            {
                ScaleRow(acc + i * d, d, 1f / sum[i]);
                new Span<float>(acc + i * d, d).CopyTo(new Span<float>(o + (long)i * d, d));
                lse[i] = max[i] + MathF.Log(sum[i]);
            }
        }
        finally
        {
            NativeMemory.AlignedFree(scores);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardUnit(float* q, float* k, float* v, float* o, float* lse, float* g, float* dq, float* dk, float* dv,
        int n, int m, int d, float scale)
    {
        int ldk = RoundUp(m, 2 * Lanes);
        long scratch = 2L * d * ldk + 2L * QueryBlock * BackwardKeyBlock + n;
        float* keysT = Alloc(scratch);
        float* valuesT = keysT + (long)d * ldk;
        float* p = valuesT + (long)d * ldk;
        float* ds = p + QueryBlock * BackwardKeyBlock;
        float* delta = ds + QueryBlock * BackwardKeyBlock;
        try
        {
            Transpose(k, m, d, keysT, ldk);
            Transpose(v, m, d, valuesT, ldk);
            // delta_i = Σ_c g[i, c]·o[i, c] = Σ_j p[i, j]·(g·vᵀ)[i, j], the softmax backward's row term.
            for (int i = 0; i < n; i++) delta[i] = Dot(g + (long)i * d, o + (long)i * d, d);
            new Span<float>(dq, n * d).Clear();
            new Span<float>(dk, m * d).Clear();
            new Span<float>(dv, m * d).Clear();
            for (int c0 = 0; c0 < m; c0 += BackwardKeyBlock)
            {
                int cols = Math.Min(BackwardKeyBlock, m - c0), paddedCols = RoundUp(cols, 2 * Lanes);
                for (int r0 = 0; r0 < n; r0 += QueryBlock)
                {
                    int rows = Math.Min(QueryBlock, n - r0);
                    float* qBlock = q + (long)r0 * d, gBlock = g + (long)r0 * d;
                    Scores(qBlock, rows, d, keysT + c0, ldk, paddedCols, p, BackwardKeyBlock);
                    for (int i = 0; i < rows; i++) ExpInPlace(p + i * BackwardKeyBlock, cols, scale, lse[r0 + i]);
                    Accumulate(p, 1, BackwardKeyBlock, cols, rows, gBlock, d, d, dv + (long)c0 * d, d);
                    Scores(gBlock, rows, d, valuesT + c0, ldk, paddedCols, ds, BackwardKeyBlock);
                    for (int i = 0; i < rows; i++) SoftmaxGradient(p + i * BackwardKeyBlock, ds + i * BackwardKeyBlock, cols, delta[r0 + i], scale);
                    Accumulate(ds, BackwardKeyBlock, 1, rows, cols, k + (long)c0 * d, d, d, dq + (long)r0 * d, d);
                    Accumulate(ds, 1, BackwardKeyBlock, cols, rows, qBlock, d, d, dk + (long)c0 * d, d);
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(keysT);
        }
    }

    /// <summary>
    /// s[i, j] = Σ_t a[i, t]·bt[t, j] for i &lt; rows, j &lt; cols: a is [rows, depth], bt [depth, ldb] (a block of keys
    /// laid out by feature), cols a multiple of 16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores(float* a, int rows, int depth, float* bt, int ldb, int cols, float* s, int lds)
    {
        int i = 0;
        for (; i + 4 <= rows; i += 4)
        {
            float* a0 = a + i * depth, a1 = a0 + depth, a2 = a1 + depth, a3 = a2 + depth;
            for (int j = 0; j < cols; j += 2 * Lanes)
            {
                Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
                Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
                float* b = bt + j;
                for (int t = 0; t < depth; t++, b += ldb)
                {
                    var b0 = Avx.LoadVector256(b);
                    var b1 = Avx.LoadVector256(b + Lanes);
                    var x = Vector256.Create(a0[t]);
                    c00 = Fma.MultiplyAdd(x, b0, c00);
                    c01 = Fma.MultiplyAdd(x, b1, c01);
                    x = Vector256.Create(a1[t]);
                    c10 = Fma.MultiplyAdd(x, b0, c10);
                    c11 = Fma.MultiplyAdd(x, b1, c11);
                    x = Vector256.Create(a2[t]);
                    c20 = Fma.MultiplyAdd(x, b0, c20);
                    c21 = Fma.MultiplyAdd(x, b1, c21);
                    x = Vector256.Create(a3[t]);
                    c30 = Fma.MultiplyAdd(x, b0, c30);
                    c31 = Fma.MultiplyAdd(x, b1, c31);
                }
                float* out0 = s + i * lds + j;
                Avx.Store(out0, c00);
                Avx.Store(out0 + Lanes, c01);
                Avx.Store(out0 + lds, c10);
                Avx.Store(out0 + lds + Lanes, c11);
                Avx.Store(out0 + 2 * lds, c20);
                Avx.Store(out0 + 2 * lds + Lanes, c21);
                Avx.Store(out0 + 3 * lds, c30);
                Avx.Store(out0 + 3 * lds + Lanes, c31);
            }
        }
        for (; i < rows; i++)
        {
            float* ai = a + i * depth;
            for (int j = 0; j < cols; j += Lanes)
            {
                Vector256<float> c = default;
                float* b = bt + j;
                for (int t = 0; t < depth; t++, b += ldb) c = Fma.MultiplyAdd(Vector256.Create(ai[t]), Avx.LoadVector256(b), c);
                Avx.Store(s + i * lds + j, c);
            }
        }
    }

    /// <summary>
    /// c[r, :] += Σ_t a[r·rowStride + t·depthStride]·b[t, :] for r &lt; rows, t &lt; depth: b is [depth, ldb] with
    /// width (a multiple of 8) columns read, c [rows, ldc]. The strides let one kernel read a block of scores or its
    /// transpose.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate(float* a, int rowStride, int depthStride, int rows, int depth, float* b, int ldb, int width, float* c, int ldc)
    {
        int r = 0;
        for (; r + 4 <= rows; r += 4)
        {
            float* a0 = a + r * rowStride, a1 = a0 + rowStride, a2 = a1 + rowStride, a3 = a2 + rowStride;
            float* c0 = c + r * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
            int col = 0;
            for (; col + 2 * Lanes <= width; col += 2 * Lanes)
            {
                var s00 = Avx.LoadVector256(c0 + col);
                var s01 = Avx.LoadVector256(c0 + col + Lanes);
                var s10 = Avx.LoadVector256(c1 + col);
                var s11 = Avx.LoadVector256(c1 + col + Lanes);
                var s20 = Avx.LoadVector256(c2 + col);
                var s21 = Avx.LoadVector256(c2 + col + Lanes);
                var s30 = Avx.LoadVector256(c3 + col);
                var s31 = Avx.LoadVector256(c3 + col + Lanes);
                float* bt = b + col;
                for (int t = 0, at = 0; t < depth; t++, at += depthStride, bt += ldb)
                {
                    var b0 = Avx.LoadVector256(bt);
                    var b1 = Avx.LoadVector256(bt + Lanes);
                    var x = Vector256.Create(a0[at]);
                    s00 = Fma.MultiplyAdd(x, b0, s00);
                    s01 = Fma.MultiplyAdd(x, b1, s01);
                    x = Vector256.Create(a1[at]);
                    s10 = Fma.MultiplyAdd(x, b0, s10);
                    s11 = Fma.MultiplyAdd(x, b1, s11);
                    x = Vector256.Create(a2[at]);
                    s20 = Fma.MultiplyAdd(x, b0, s20);
                    s21 = Fma.MultiplyAdd(x, b1, s21);
                    x = Vector256.Create(a3[at]);
                    s30 = Fma.MultiplyAdd(x, b0, s30);
                    s31 = Fma.MultiplyAdd(x, b1, s31);
                }
                Avx.Store(c0 + col, s00);
                Avx.Store(c0 + col + Lanes, s01);
                Avx.Store(c1 + col, s10);
                Avx.Store(c1 + col + Lanes, s11);
                Avx.Store(c2 + col, s20);
                Avx.Store(c2 + col + Lanes, s21);
                Avx.Store(c3 + col, s30);
                Avx.Store(c3 + col + Lanes, s31);
            }
            for (; col < width; col += Lanes)
            {
                var s0 = Avx.LoadVector256(c0 + col);
                var s1 = Avx.LoadVector256(c1 + col);
                var s2 = Avx.LoadVector256(c2 + col);
                var s3 = Avx.LoadVector256(c3 + col);
                float* bt = b + col;
                for (int t = 0, at = 0; t < depth; t++, at += depthStride, bt += ldb)
                {
                    var b0 = Avx.LoadVector256(bt);
                    s0 = Fma.MultiplyAdd(Vector256.Create(a0[at]), b0, s0);
                    s1 = Fma.MultiplyAdd(Vector256.Create(a1[at]), b0, s1);
                    s2 = Fma.MultiplyAdd(Vector256.Create(a2[at]), b0, s2);
                    s3 = Fma.MultiplyAdd(Vector256.Create(a3[at]), b0, s3);
                }
                Avx.Store(c0 + col, s0);
                Avx.Store(c1 + col, s1);
                Avx.Store(c2 + col, s2);
                Avx.Store(c3 + col, s3);
            }
        }
        for (; r < rows; r++)
        {
            float* ar = a + r * rowStride, cr = c + r * ldc;
            for (int col = 0; col < width; col += Lanes)
            {
                var s = Avx.LoadVector256(cr + col);
                float* bt = b + col;
                for (int t = 0, at = 0; t < depth; t++, at += depthStride, bt += ldb)
                    s = Fma.MultiplyAdd(Vector256.Create(ar[at]), Avx.LoadVector256(bt), s);
                Avx.Store(cr + col, s);
            }
        }
    }

    /// <summary>row[j] = exp(scale·row[j] − shift) for j &lt; count; returns their sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float ExpInPlace(float* row, int count, float scale, float shift)
    {
        var scales = Vector256.Create(scale);
        var shifts = Vector256.Create(-shift);
        var sums = Vector256<float>.Zero;
        int j = 0;
        for (; j + Lanes <= count; j += Lanes)
        {
            var e = Vector256.Exp(Fma.MultiplyAdd(Avx.LoadVector256(row + j), scales, shifts));
            Avx.Store(row + j, e);
            sums = Avx.Add(sums, e);
        }
        float sum = Vector256.Sum(sums);
        for (; j < count; j++)
        {
            row[j] = MathF.Exp(scale * row[j] - shift);
            sum += row[j];
        }
        return sum;
    }

    /// <summary>ds[j] = scale·p[j]·(ds[j] − delta): the scores' gradient from the probabilities' (held in ds).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SoftmaxGradient(float* p, float* ds, int count, float delta, float scale)
    {
        var deltas = Vector256.Create(delta);
        var scales = Vector256.Create(scale);
        int j = 0;
        for (; j + Lanes <= count; j += Lanes)
            Avx.Store(ds + j, Avx.Multiply(Avx.Multiply(Avx.LoadVector256(p + j), scales), Avx.Subtract(Avx.LoadVector256(ds + j), deltas)));
        for (; j < count; j++) ds[j] = scale * p[j] * (ds[j] - delta);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float RowMax(float* row, int count)
    {
        var maxima = Vector256.Create(float.NegativeInfinity);
        int j = 0;
        for (; j + Lanes <= count; j += Lanes) maxima = Avx.Max(maxima, Avx.LoadVector256(row + j));
        float max = float.NegativeInfinity;
        for (int lane = 0; lane < Lanes; lane++) max = MathF.Max(max, maxima.GetElement(lane));
        for (; j < count; j++) max = MathF.Max(max, row[j]);
        return max;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScaleRow(float* row, int count, float factor)
    {
        var factors = Vector256.Create(factor);
        for (int j = 0; j < count; j += Lanes) Avx.Store(row + j, Avx.Multiply(Avx.LoadVector256(row + j), factors));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot(float* a, float* b, int count)
    {
        var sums = Vector256<float>.Zero;
        for (int j = 0; j < count; j += Lanes) sums = Fma.MultiplyAdd(Avx.LoadVector256(a + j), Avx.LoadVector256(b + j), sums);
        return Vector256.Sum(sums);
    }

    /// <summary>x [rows, cols] to xt [cols, ldt], the columns from rows on zeroed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose(float* x, int rows, int cols, float* xt, int ldt)
    {
        for (int c = 0; c < cols; c++)
        {
            float* column = xt + (long)c * ldt;
            for (int r = 0; r < rows; r++) column[r] = x[(long)r * cols + c];
            new Span<float>(column + rows, ldt - rows).Clear();
        }
    }

    private static float* Alloc(long floats) => (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    private static ParallelOptions Options(int threads) => new() { MaxDegreeOfParallelism = Math.Max(1, threads) };
}
