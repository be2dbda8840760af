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
/// The kernels are generic over the vector width (<see cref="WidthFor"/>).
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

    public static bool Supported => Fma.IsSupported && Avx2.IsSupported;

    public static bool WideSupported => Supported && Avx512F.IsSupported;

    /// <summary>512 bits where the CPU has them and a head fills a whole vector.</summary>
    public static VectorWidth WidthFor(int d) => d >= Vector512<float>.Count && WideSupported ? VectorWidth.Bits512 : VectorWidth.Bits256;

    /// <summary>o = softmax(scale·q·kᵀ)·v and, per query row, lse = log Σ exp(scale·q·kᵀ).</summary>
    public static void Forward(float* q, float* k, float* v, float* o, float* lse, int units, int n, int m, int d, float scale, int threads, VectorWidth width)
    {
        if (width == VectorWidth.Bits512) Forward<Simd512, Vector512<float>>(q, k, v, o, lse, units, n, m, d, scale, threads);
        else Forward<Simd256, Vector256<float>>(q, k, v, o, lse, units, n, m, d, scale, threads);
    }

    /// <summary>
    /// The gradients of <see cref="Forward"/>'s o with respect to q, k and v, given the output gradient g, o and lse.
    /// dq, dk and dv are overwritten.
    /// </summary>
    public static void Backward(float* q, float* k, float* v, float* o, float* lse, float* g, float* dq, float* dk, float* dv,
        int units, int n, int m, int d, float scale, int threads, VectorWidth width)
    {
        if (width == VectorWidth.Bits512) Backward<Simd512, Vector512<float>>(q, k, v, o, lse, g, dq, dk, dv, units, n, m, d, scale, threads);
        else Backward<Simd256, Vector256<float>>(q, k, v, o, lse, g, dq, dk, dv, units, n, m, d, scale, threads);
    }

    public enum VectorWidth
    {
        Bits256,
        Bits512,
    }

    private static void Forward<TSimd, TVector>(float* q, float* k, float* v, float* o, float* lse, int units, int n, int m, int d, float scale, int threads)
        where TSimd : ISimd<TVector> where TVector : struct
    {
        int paddedKeys = RoundUp(m, 2 * TSimd.Lanes);
        float* keysT = Alloc((long)units * d * paddedKeys);
        try
        {
            Parallel.For(0, units, Options(threads), unit =>
                Transpose(k + (long)unit * m * d, m, d, keysT + (long)unit * d * paddedKeys, paddedKeys));
            int queryBlocks = (n + QueryBlock - 1) / QueryBlock;
            long scratchFloats = QueryBlock * ((long)ForwardKeyBlock + d + 2);
            // One scratch block per worker thread, not per query block.
            Parallel.For(0, (long)units * queryBlocks, Options(threads), () => (nint)Alloc(scratchFloats), (job, _, scratch) =>
            {
                int unit = (int)(job / queryBlocks), r0 = (int)(job % queryBlocks) * QueryBlock;
                int rows = Math.Min(QueryBlock, n - r0);
                long qOffset = ((long)unit * n + r0) * d;
                ForwardBlock<TSimd, TVector>(q + qOffset, rows, v + (long)unit * m * d, m, d,
                    keysT + (long)unit * d * paddedKeys, paddedKeys, scale, o + qOffset, lse + (long)unit * n + r0, (float*)scratch);
                return scratch;
            }, scratch => NativeMemory.AlignedFree((void*)scratch));
        }
        finally
        {
            NativeMemory.AlignedFree(keysT);
        }
    }

    private static void Backward<TSimd, TVector>(float* q, float* k, float* v, float* o, float* lse, float* g, float* dq, float* dk, float* dv,
        int units, int n, int m, int d, float scale, int threads)
        where TSimd : ISimd<TVector> where TVector : struct
    {
        Parallel.For(0, units, Options(threads), unit =>
        {
            long qOffset = (long)unit * n * d, kOffset = (long)unit * m * d;
            BackwardUnit<TSimd, TVector>(q + qOffset, k + kOffset, v + kOffset, o + qOffset, lse + (long)unit * n, g + qOffset,
                dq + qOffset, dk + kOffset, dv + kOffset, n, m, d, scale);
        });
    }

    /// <summary>One block of query rows; <paramref name="scores"/> is scratch of QueryBlock·(ForwardKeyBlock + d + 2) floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardBlock<TSimd, TVector>(float* q, int rows, float* v, int m, int d, float* keysT, int ldk, float scale, float* o, float* lse,
        float* scores)
        where TSimd : ISimd<TVector> where TVector : struct
    {
        float* acc = scores + QueryBlock * ForwardKeyBlock;
        float* max = acc + QueryBlock * d;
        float* sum = max + QueryBlock;
        new Span<float>(acc, rows * d).Clear();
        new Span<float>(max, rows).Fill(float.NegativeInfinity);
        new Span<float>(sum, rows).Clear();
        for (int c0 = 0; c0 < m; c0 += ForwardKeyBlock)
        {
            int cols = Math.Min(ForwardKeyBlock, m - c0);
            Product<TSimd, TVector>(false, q, d, 1, rows, d, keysT + c0, ldk, RoundUp(cols, 2 * TSimd.Lanes), scores, ForwardKeyBlock);
            for (int i = 0; i < rows; i++)
            {
                float* row = scores + i * ForwardKeyBlock;
                float newMax = MathF.Max(max[i], scale * RowMax<TSimd, TVector>(row, cols));
                float correction = MathF.Exp(max[i] - newMax);
                sum[i] = sum[i] * correction + ExpInPlace<TSimd, TVector>(row, cols, scale, newMax);
                max[i] = newMax;
                if (correction != 1f) ScaleRow(acc + i * d, d, correction);
            }
            Product<TSimd, TVector>(true, scores, ForwardKeyBlock, 1, rows, cols, v + (long)c0 * d, d, d, acc, d);
        }
        for (int i = 0; i < rows; i++)
        {
            ScaleRow(acc + i * d, d, 1f / sum[i]);
            new Span<float>(acc + i * d, d).CopyTo(new Span<float>(o + (long)i * d, d));
            lse[i] = max[i] + MathF.Log(sum[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardUnit<TSimd, TVector>(float* q, float* k, float* v, float* o, float* lse, float* g, float* dq, float* dk, float* dv,
        int n, int m, int d, float scale)
        where TSimd : ISimd<TVector> where TVector : struct
    {
        int ldk = RoundUp(m, 2 * TSimd.Lanes);
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
                int cols = Math.Min(BackwardKeyBlock, m - c0), paddedCols = RoundUp(cols, 2 * TSimd.Lanes);
                for (int r0 = 0; r0 < n; r0 += QueryBlock)
                {
                    int rows = Math.Min(QueryBlock, n - r0);
                    float* qBlock = q + (long)r0 * d, gBlock = g + (long)r0 * d;
                    Product<TSimd, TVector>(false, qBlock, d, 1, rows, d, keysT + c0, ldk, paddedCols, p, BackwardKeyBlock);
                    for (int i = 0; i < rows; i++) ExpInPlace<TSimd, TVector>(p + i * BackwardKeyBlock, cols, scale, lse[r0 + i]);
                    Product<TSimd, TVector>(true, p, 1, BackwardKeyBlock, cols, rows, gBlock, d, d, dv + (long)c0 * d, d);
                    Product<TSimd, TVector>(false, gBlock, d, 1, rows, d, valuesT + c0, ldk, paddedCols, ds, BackwardKeyBlock);
                    for (int i = 0; i < rows; i++) SoftmaxGradient<TSimd, TVector>(p + i * BackwardKeyBlock, ds + i * BackwardKeyBlock, cols, delta[r0 + i], scale);
                    Product<TSimd, TVector>(true, ds, BackwardKeyBlock, 1, rows, cols, k + (long)c0 * d, d, d, dq + (long)r0 * d, d);
                    Product<TSimd, TVector>(true, ds, 1, BackwardKeyBlock, cols, rows, qBlock, d, d, dk + (long)c0 * d, d);
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(keysT);
        }
    }

    /// <summary>
    /// c[r, :] = Σ_t a[r·rowStride + t·depthStride]·b[t, :] (added to c when <paramref name="add"/>) for r &lt; rows,
    /// t &lt; depth: b is [depth, ldb] with width (a multiple of 8) columns read, c [rows, ldc]. The strides let one
    /// kernel read a row-major block, a block of scores or its transpose. Columns past the last whole vector go to the
    /// 256-bit kernel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Product<TSimd, TVector>(bool add, float* a, int rowStride, int depthStride, int rows, int depth, float* b, int ldb, int width, float* c, int ldc)
        where TSimd : ISimd<TVector> where TVector : struct
    {
        int lanes = TSimd.Lanes;
        int whole = width / lanes * lanes;
        if (whole < width) Product<Simd256, Vector256<float>>(add, a, rowStride, depthStride, rows, depth, b + whole, ldb, width - whole, c + whole, ldc);
        int r = 0;
        // One vector per row (heads as wide as a vector): eight rows keep eight independent sums in flight.
        if (whole == lanes)
        {
            for (; r + 8 <= rows; r += 8)
            {
                float* a0 = a + r * rowStride;
                float* c0 = c + r * ldc;
                var s0 = add ? TSimd.Load(c0) : default;
                var s1 = add ? TSimd.Load(c0 + ldc) : default;
                var s2 = add ? TSimd.Load(c0 + 2 * ldc) : default;
                var s3 = add ? TSimd.Load(c0 + 3 * ldc) : default;
                var s4 = add ? TSimd.Load(c0 + 4 * ldc) : default;
                var s5 = add ? TSimd.Load(c0 + 5 * ldc) : default;
                var s6 = add ? TSimd.Load(c0 + 6 * ldc) : default;
                var s7 = add ? TSimd.Load(c0 + 7 * ldc) : default;
                float* bt = b;
                for (int t = 0, at = 0; t < depth; t++, at += depthStride, bt += ldb)
                {
                    var b0 = TSimd.Load(bt);
                    float* at0 = a0 + at;
                    s0 = TSimd.MultiplyAdd(TSimd.Broadcast(at0[0]), b0, s0);
                    s1 = TSimd.MultiplyAdd(TSimd.Broadcast(at0[rowStride]), b0, s1);
                    s2 = TSimd.MultiplyAdd(TSimd.Broadcast(at0[2 * rowStride]), b0, s2);
                    s3 = TSimd.MultiplyAdd(TSimd.Broadcast(at0[3 * rowStride]), b0, s3);
                    s4 = TSimd.MultiplyAdd(TSimd.Broadcast(at0[4 * rowStride]), b0, s4);
                    s5 = TSimd.MultiplyAdd(TSimd.Broadcast(at0[5 * rowStride]), b0, s5);
                    s6 = TSimd.MultiplyAdd(TSimd.Broadcast(at0[6 * rowStride]), b0, s6);
                    s7 = TSimd.MultiplyAdd(TSimd.Broadcast(at0[7 * rowStride]), b0, s7);
                }
                TSimd.Store(c0, s0);
                TSimd.Store(c0 + ldc, s1);
                TSimd.Store(c0 + 2 * ldc, s2);
                TSimd.Store(c0 + 3 * ldc, s3);
                TSimd.Store(c0 + 4 * ldc, s4);
                TSimd.Store(c0 + 5 * ldc, s5);
                TSimd.Store(c0 + 6 * ldc, s6);
                TSimd.Store(c0 + 7 * ldc, s7);
            }
        }
        for (; r + 4 <= rows; r += 4)
        {
            float* a0 = a + r * rowStride, a1 = a0 + rowStride, a2 = a1 + rowStride, a3 = a2 + rowStride;
            float* c0 = c + r * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
            int col = 0;
            for (; col + 2 * lanes <= whole; col += 2 * lanes)
            {
                var s00 = add ? TSimd.Load(c0 + col) : default;
                var s01 = add ? TSimd.Load(c0 + col + lanes) : default;
                var s10 = add ? TSimd.Load(c1 + col) : default;
                var s11 = add ? TSimd.Load(c1 + col + lanes) : default;
                var s20 = add ? TSimd.Load(c2 + col) : default;
                var s21 = add ? TSimd.Load(c2 + col + lanes) : default;
                var s30 = add ? TSimd.Load(c3 + col) : default;
                var s31 = add ? TSimd.Load(c3 + col + lanes) : default;
                float* bt = b + col;
                for (int t = 0, at = 0; t < depth; t++, at += depthStride, bt += ldb)
                {
                    var b0 = TSimd.Load(bt);
                    var b1 = TSimd.Load(bt + lanes);
                    var x = TSimd.Broadcast(a0[at]);
                    s00 = TSimd.MultiplyAdd(x, b0, s00);
                    s01 = TSimd.MultiplyAdd(x, b1, s01);
                    x = TSimd.Broadcast(a1[at]);
                    s10 = TSimd.MultiplyAdd(x, b0, s10);
                    s11 = TSimd.MultiplyAdd(x, b1, s11);
                    x = TSimd.Broadcast(a2[at]);
                    s20 = TSimd.MultiplyAdd(x, b0, s20);
                    s21 = TSimd.MultiplyAdd(x, b1, s21);
                    x = TSimd.Broadcast(a3[at]);
                    s30 = TSimd.MultiplyAdd(x, b0, s30);
                    s31 = TSimd.MultiplyAdd(x, b1, s31);
                }
                TSimd.Store(c0 + col, s00);
                TSimd.Store(c0 + col + lanes, s01);
                TSimd.Store(c1 + col, s10);
                TSimd.Store(c1 + col + lanes, s11);
                TSimd.Store(c2 + col, s20);
                TSimd.Store(c2 + col + lanes, s21);
                TSimd.Store(c3 + col, s30);
                TSimd.Store(c3 + col + lanes, s31);
            }
            for (; col < whole; col += lanes)
            {
                var s0 = add ? TSimd.Load(c0 + col) : default;
                var s1 = add ? TSimd.Load(c1 + col) : default;
                var s2 = add ? TSimd.Load(c2 + col) : default;
                var s3 = add ? TSimd.Load(c3 + col) : default;
                float* bt = b + col;
                for (int t = 0, at = 0; t < depth; t++, at += depthStride, bt += ldb)
                {
                    var b0 = TSimd.Load(bt);
                    s0 = TSimd.MultiplyAdd(TSimd.Broadcast(a0[at]), b0, s0);
                    s1 = TSimd.MultiplyAdd(TSimd.Broadcast(a1[at]), b0, s1);
                    s2 = TSimd.MultiplyAdd(TSimd.Broadcast(a2[at]), b0, s2);
                    s3 = TSimd.MultiplyAdd(TSimd.Broadcast(a3[at]), b0, s3);
                }
                TSimd.Store(c0 + col, s0);
                TSimd.Store(c1 + col, s1);
                TSimd.Store(c2 + col, s2);
                TSimd.Store(c3 + col, s3);
            }
        }
        for (; r < rows; r++)
        {
            float* ar = a + r * rowStride, cr = c + r * ldc;
            for (int col = 0; col < whole; col += lanes)
            {
                var s = add ? TSimd.Load(cr + col) : default;
                float* bt = b + col;
                for (int t = 0, at = 0; t < depth; t++, at += depthStride, bt += ldb)
                    s = TSimd.MultiplyAdd(TSimd.Broadcast(ar[at]), TSimd.Load(bt), s);
                TSimd.Store(cr + col, s);
            }
        }
    }

    /// <summary>row[j] = exp(scale·row[j] − shift) for j &lt; count; returns their sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float ExpInPlace<TSimd, TVector>(float* row, int count, float scale, float shift)
        where TSimd : ISimd<TVector> where TVector : struct
    {
        var scales = TSimd.Broadcast(scale);
        var shifts = TSimd.Broadcast(-shift);
        TVector sums = default;
        int j = 0;
        for (; j + TSimd.Lanes <= count; j += TSimd.Lanes)
        {
            var e = TSimd.Exp(TSimd.MultiplyAdd(TSimd.Load(row + j), scales, shifts));
            TSimd.Store(row + j, e);
            sums = TSimd.Add(sums, e);
        }
        float sum = TSimd.Sum(sums);
        for (; j < count; j++)
        {
            row[j] = MathF.Exp(scale * row[j] - shift);
            sum += row[j];
        }
        return sum;
    }

    /// <summary>ds[j] = scale·p[j]·(ds[j] − delta): the scores' gradient from the probabilities' (held in ds).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SoftmaxGradient<TSimd, TVector>(float* p, float* ds, int count, float delta, float scale)
        where TSimd : ISimd<TVector> where TVector : struct
    {
        var deltas = TSimd.Broadcast(delta);
        var scales = TSimd.Broadcast(scale);
        int j = 0;
        for (; j + TSimd.Lanes <= count; j += TSimd.Lanes)
            TSimd.Store(ds + j, TSimd.Multiply(TSimd.Multiply(TSimd.Load(p + j), scales), TSimd.Subtract(TSimd.Load(ds + j), deltas)));
        for (; j < count; j++) ds[j] = scale * p[j] * (ds[j] - delta);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float RowMax<TSimd, TVector>(float* row, int count)
        where TSimd : ISimd<TVector> where TVector : struct
    {
        var maxima = TSimd.Broadcast(float.NegativeInfinity);
        int j = 0;
        for (; j + TSimd.Lanes <= count; j += TSimd.Lanes) maxima = TSimd.Max(maxima, TSimd.Load(row + j));
        float max = TSimd.MaxElement(maxima);
        for (; j < count; j++) max = MathF.Max(max, row[j]);
        return max;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScaleRow(float* row, int count, float factor)
    {
        var factors = Vector256.Create(factor);
        for (int j = 0; j < count; j += Simd256.Lanes) Avx.Store(row + j, Avx.Multiply(Avx.LoadVector256(row + j), factors));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot(float* a, float* b, int count)
    {
        var sums = Vector256<float>.Zero;
        for (int j = 0; j < count; j += Simd256.Lanes) sums = Fma.MultiplyAdd(Avx.LoadVector256(a + j), Avx.LoadVector256(b + j), sums);
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

    /// <summary>The vector operations the kernels use, at one width; the JIT compiles each kernel once per width.</summary>
    private interface ISimd<TVector> where TVector : struct
    {
        static abstract int Lanes { get; }
        static abstract TVector Load(float* p);
        static abstract void Store(float* p, TVector value);
        static abstract TVector Broadcast(float value);
        static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);
        static abstract TVector Multiply(TVector a, TVector b);
        static abstract TVector Subtract(TVector a, TVector b);
        static abstract TVector Add(TVector a, TVector b);
        static abstract TVector Max(TVector a, TVector b);
        static abstract TVector Exp(TVector x);
        static abstract float Sum(TVector x);
        static abstract float MaxElement(TVector x);
    }

    private readonly struct Simd256 : ISimd<Vector256<float>>
    {
        public static int Lanes => Vector256<float>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* p) => Avx.LoadVector256(p);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector256<float> value) => Avx.Store(p, value);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.MultiplyAdd(a, b, c);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => Avx.Multiply(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => Avx.Subtract(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => Avx.Add(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Avx.Max(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Exp(Vector256<float> x) => Vector256.Exp(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector256<float> x) => Vector256.Sum(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxElement(Vector256<float> x)
        {
            var halves = Sse.Max(x.GetLower(), x.GetUpper());
            halves = Sse.Max(halves, Sse.MoveHighToLow(halves, halves));
            return MathF.Max(halves.GetElement(0), halves.GetElement(1));
        }
    }

    private readonly struct Simd512 : ISimd<Vector512<float>>
    {
        public static int Lanes => Vector512<float>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Avx512F.LoadVector512(p);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector512<float> value) => Avx512F.Store(p, value);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Avx512F.FusedMultiplyAdd(a, b, c);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => Avx512F.Multiply(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => Avx512F.Subtract(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => Avx512F.Add(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Avx512F.Max(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Exp(Vector512<float> x) => Vector512.Exp(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector512<float> x) => Vector512.Sum(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxElement(Vector512<float> x) =>
            Simd256.MaxElement(Avx.Max(x.GetLower(), x.GetUpper()));
    }
}
