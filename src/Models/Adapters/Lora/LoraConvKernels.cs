using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Peft.Typed.Models.Adapters.Lora.LoraVectors;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Lora;

/// <summary>
/// The r-channel products of a merged LoRA convolution (<see cref="MergedLoraFunction"/>) that keeps its input's size:
/// stride 1, an odd kernel with "same" padding (1×1 included). Inside a training step the full-size tensors these read
/// (the input x, the output gradient g) have left the caches by the time the adapter needs them, and libtorch's route
/// (tap product, col2im, two passes over g, im2col of z's gradient, one more product with x, each a call of its own)
/// ran at memory speed, 2–3× its time in a warm loop. Here <see cref="Down"/> forms z = lora_A(x) from one read of x
/// and <see cref="FactorGrads"/> both factors' gradients from one read of g and x. Work runs in bands of rows; each
/// band's input rows are first copied, zero-padded, into a per-thread buffer whose channels lie a padded row apart (an
/// H·W-float stride between channels maps every channel's row to the same cache sets). Arrays are float32, NCHW and
/// contiguous; r runs in blocks of 8 (z carries <see cref="PaddedRank"/> channels, the padding zero). Each output
/// element and partial sum is written by one thread, and partial sums are added in band order, so results do not
/// depend on the thread count.
/// </summary>
internal static unsafe class LoraConvKernels
{
    private const int L = 8;
    // Pixels per band: a band's z gradient (8 × 256 floats) stays in L1, its input rows in L2.
    private const int BandPixels = 256;

    /// <summary>
    /// True for the convolutions these kernels compute: float32 on a CPU with AVX2 and FMA, groups 1, stride 1, an odd
    /// kernel with "same" padding.
    /// </summary>
    public static bool Handles(LayerGeometry geometry, Tensor x) =>
        Supported && LoraConvBranch.Handles(geometry, x) && x.dtype == ScalarType.Float32
        && geometry.Stride.All(stride => stride == 1)
        && 2 * geometry.Padding[0] == geometry.KernelSize[0] - 1 && 2 * geometry.Padding[1] == geometry.KernelSize[1] - 1;

    /// <summary>z = lora_A(x) as [n, rp, H, W] for contiguous x [n, c, H, W]; rows r to rp − 1 are zero.</summary>
    public static Tensor Down(Tensor x, Tensor weightA, int? threads = null)
    {
        using var a = weightA.contiguous();
        var s = ShapeOf(x, a, outChannels: 0);
        var z = empty(s.N, s.Rp, s.H, s.W, dtype: ScalarType.Float32);
        fixed (byte* xp = x.bytes, ap = a.bytes, zp = z.bytes)
            Down((float*)xp, (float*)ap, (float*)zp, s, threads ?? get_num_threads());
        return z;
    }

    /// <summary>
    /// lora_A's and lora_B's gradients from contiguous x, <see cref="Down"/>'s z and the output gradient:
    /// ((s·Bᵀg) ⋆ x, s·g·zᵀ) in the factors' shapes, summed over the batch.
    /// </summary>
    public static (Tensor GradA, Tensor GradB) FactorGrads(Tensor x, Tensor z, Tensor weightA, Tensor weightB, double scaling, Tensor gradOutput, int? threads = null)
    {
        using var g = gradOutput.contiguous();
        using var b = weightB.contiguous();
        var s = ShapeOf(x, weightA, (int)weightB.shape[0]);
        var gradA = empty_like(weightA);
        var gradB = empty_like(weightB);
        fixed (byte* xp = x.bytes, gp = g.bytes, zp = z.bytes, bp = b.bytes, gap = gradA.bytes, gbp = gradB.bytes)
            FactorGrads((float*)xp, (float*)gp, (float*)zp, (float*)bp, (float)scaling, (float*)gap, (float*)gbp, s, threads ?? get_num_threads());
        return (gradA, gradB);
    }

    /// <summary>r rounded up to whole blocks of 8.</summary>
    public static int PaddedRank(int r) => (r + L - 1) / L * L;

    /// <summary>The sizes the kernels share: batch, input and output channels, height, width, rank and kernel.</summary>
    public readonly record struct Shape(int N, int C, int O, int H, int W, int R, int Kh, int Kw)
    {
        public int Rp => PaddedRank(R);
        public long Plane => (long)H * W;
        public int Taps => Kh * Kw;
        public int Ph => Kh / 2;
        public int Pw => Kw / 2;

        /// <summary>A row rounded up to whole vectors.</summary>
        public int Wv => (W + L - 1) / L * L;

        /// <summary>A copied input row: Pw zeros, the row, zeros up to what the last vector of the last tap reads; never a multiple of 64 floats.</summary>
        public int Wp
        {
            get
            {
                int width = Wv + Kw - 1;
                return width % 64 == 0 ? width + L : width;
            }
        }

        /// <summary>Rows per band: about <see cref="BandPixels"/> pixels.</summary>
        public int Band => Math.Clamp(BandPixels / W, 1, H);

        public int Bands => (H + Band - 1) / Band;

        /// <summary>Floats in a band's copied input rows: [Band + Kh − 1][c][Wp].</summary>
        public long PackedFloats => (long)(Band + Kh - 1) * C * Wp;
    }

    private static void Down(float* x, float* a, float* z, Shape s, int threads)
    {
        float* packedA = PackWeightA(a, s);
        try
        {
            Parallel.For(0, s.N * s.Bands, Options(threads), () => (nint)Alloc(s.PackedFloats), (item, _, scratch) =>
            {
                var rows = RowsOf(item, s);
                PackRows(x, (float*)scratch, rows, s);
                for (int block = 0; block < s.Rp / L; block++)
                {
                    for (int r = 0; r < rows.Count; r++)
                        DownRow((float*)scratch, packedA + (long)block * s.C * s.Taps * L, z + ((long)rows.Image * s.Rp + block * L) * s.Plane + (long)(rows.First + r) * s.W, s, r);
                }
                return scratch;
            }, scratch => NativeMemory.AlignedFree((void*)scratch));
        }
        finally
        {
            NativeMemory.AlignedFree(packedA);
        }
    }

    private static void FactorGrads(float* x, float* g, float* z, float* b, float scaling, float* ga, float* gb, Shape s, int threads)
    {
        int items = s.N * s.Bands;
        long bSize = (long)s.O * s.Rp, aSize = (long)s.Rp * s.C * s.Taps;
        long gzFloats = (long)L * s.Band * s.Wv;
        // s·b as [block][o][8], zero past r, and 3 × 8 zeros past the end for a last group of fewer than 4 channels.
        float* bs = Alloc((long)s.Rp * s.O + 3 * L);
        new Span<float>(bs + (long)s.Rp * s.O, 3 * L).Clear();
        float* partB = Alloc(items * bSize);
        float* partA = Alloc(items * aSize);
        try
        {
            for (int block = 0; block < s.Rp / L; block++)
            {
                for (int o = 0; o < s.O; o++)
                {
                    for (int q = 0; q < L; q++)
                    {
                        int channel = block * L + q;
                        bs[((long)block * s.O + o) * L + q] = channel < s.R ? scaling * b[(long)o * s.R + channel] : 0f;
                    }
                }
            }
            Parallel.For(0, items, Options(threads), () => (nint)Alloc(s.PackedFloats + gzFloats), (item, _, scratch) =>
            {
                var rows = RowsOf(item, s);
                float* packed = (float*)scratch;
                PackRows(x, packed, rows, s);
                Band(g, z, bs, packed, packed + s.PackedFloats, partB + item * bSize, partA + item * aSize, rows, s);
                return scratch;
            }, scratch => NativeMemory.AlignedFree((void*)scratch));
            SumItems(partB, items, bSize, s.Rp, gb, s.O, s.R, scaling);
            SumItems(partA, items, aSize, aSize, ga, 1, s.R * s.C * s.Taps, 1f);
        }
        finally
        {
            NativeMemory.AlignedFree(bs);
            NativeMemory.AlignedFree(partB);
            NativeMemory.AlignedFree(partA);
        }
    }

    /// <summary>Rows [First, First + Count) of one image.</summary>
    private readonly record struct Rows(int Image, int First, int Count);

    private static Rows RowsOf(int item, Shape s)
    {
        int first = item % s.Bands * s.Band;
        return new Rows(item / s.Bands, first, Math.Min(s.Band, s.H - first));
    }

    /// <summary>
    /// Input rows First − Ph to First + Count − 1 + Ph of one image into <paramref name="packed"/> [row][c][Wp]: each row
    /// at column Pw, zeros around it and for rows outside the image.
    /// </summary>
    private static void PackRows(float* x, float* packed, Rows rows, Shape s)
    {
        int channels = s.C, wp = s.Wp, pw = s.Pw, width = s.W;
        long plane = s.Plane;
        for (int r = 0; r < rows.Count + s.Kh - 1; r++)
        {
            int h = rows.First + r - s.Ph;
            if ((uint)h >= (uint)s.H)
            {
                new Span<float>(packed + (long)r * channels * wp, channels * wp).Clear();
                continue;
            }
            for (int c = 0; c < channels; c++)
            {
                float* target = packed + ((long)r * channels + c) * wp;
                new Span<float>(target, pw).Clear();
                new ReadOnlySpan<float>(x + ((long)rows.Image * channels + c) * plane + (long)h * width, width).CopyTo(new Span<float>(target + pw, width));
                new Span<float>(target + pw + width, wp - pw - width).Clear();
            }
        }
    }

    /// <summary>One output row of z for one block of 8 rank channels, from the band's copied rows (r: the row in the band).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DownRow(float* packed, float* packedA, float* z, Shape s, int r)
    {
        // Shape's computed properties read once: in the loops below they cost more than the loads.
        long p = s.Plane;
        int channels = s.C, kh = s.Kh, kw = s.Kw, wp = s.Wp, taps = s.Taps, width = s.W;
        for (int w0 = 0; w0 < width; w0 += L)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (int i = 0; i < kh; i++)
            {
                float* xr = packed + (long)(r + i) * channels * wp + w0;
                float* wi = packedA + i * kw * L;
                for (int c = 0; c < channels; c++)
                {
                    float* xc = xr + (long)c * wp;
                    float* wc = wi + (long)c * taps * L;
                    for (int j = 0; j < kw; j++)
                    {
                        var v = Avx.LoadVector256(xc + j);
                        float* wj = wc + j * L;
                        a0 = Fma.MultiplyAdd(Vector256.Create(wj[0]), v, a0);
                        a1 = Fma.MultiplyAdd(Vector256.Create(wj[1]), v, a1);
                        a2 = Fma.MultiplyAdd(Vector256.Create(wj[2]), v, a2);
                        a3 = Fma.MultiplyAdd(Vector256.Create(wj[3]), v, a3);
                        a4 = Fma.MultiplyAdd(Vector256.Create(wj[4]), v, a4);
                        a5 = Fma.MultiplyAdd(Vector256.Create(wj[5]), v, a5);
                        a6 = Fma.MultiplyAdd(Vector256.Create(wj[6]), v, a6);
                        a7 = Fma.MultiplyAdd(Vector256.Create(wj[7]), v, a7);
                    }
                }
            }
            float* zo = z + w0;
            if (w0 + L <= width)
            {
                Avx.Store(zo, a0); Avx.Store(zo + p, a1); Avx.Store(zo + 2 * p, a2); Avx.Store(zo + 3 * p, a3);
                Avx.Store(zo + 4 * p, a4); Avx.Store(zo + 5 * p, a5); Avx.Store(zo + 6 * p, a6); Avx.Store(zo + 7 * p, a7);
            }
            else
            {
                var tail = Lanes(w0, width);
                Avx.MaskStore(zo, tail, a0); Avx.MaskStore(zo + p, tail, a1); Avx.MaskStore(zo + 2 * p, tail, a2); Avx.MaskStore(zo + 3 * p, tail, a3);
                Avx.MaskStore(zo + 4 * p, tail, a4); Avx.MaskStore(zo + 5 * p, tail, a5); Avx.MaskStore(zo + 6 * p, tail, a6); Avx.MaskStore(zo + 7 * p, tail, a7);
            }
        }
    }

    /// <summary>
    /// One band, for each block of 8 rank channels: gz = s·bᵀg into <paramref name="gz"/> [8][band rows][Wv] (lanes
    /// past a row zero), each output channel's dot products of g with z into <paramref name="partB"/> [o][rp], and
    /// lora_A's gradient from gz and the copied input rows into <paramref name="partA"/> [rp][c][taps].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Band(float* g, float* z, float* bs, float* packed, float* gz, float* partB, float* partA, Rows rows, Shape s)
    {
        long p = s.Plane;
        int outChannels = s.O, width = s.W, wv = s.Wv, rp = s.Rp, inChannels = s.C;
        long gzRow = wv, gzChannel = (long)rows.Count * wv;
        float* sums = stackalloc float[2 * L];
        float* gBand = g + (long)rows.Image * s.O * p + (long)rows.First * s.W;
        for (int block = 0; block < rp / L; block++)
        {
            float* zBand = z + ((long)rows.Image * rp + block * L) * p + (long)rows.First * width;
            float* bb = bs + (long)block * outChannels * L;
            new Span<float>(gz, checked((int)(L * gzChannel))).Clear();
            // gz += s·b[o]ᵀ g[o], four output channels per pass over gz (each g row read along its length).
            for (int o = 0; o < outChannels; o += 4)
            {
                int count = Math.Min(4, outChannels - o);
                for (int r = 0; r < rows.Count; r++)
                {
                    for (int w0 = 0; w0 < width; w0 += L)
                        AddOutputChannels(gBand + o * p + (long)r * width + w0, p, count, bb + o * L, gz + r * gzRow + w0, gzChannel, w0, width);
                }
            }
            for (int o = 0; o < outChannels; o++)
            {
                float* go = gBand + o * p;
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                for (int r = 0; r < rows.Count; r++)
                {
                    for (int w0 = 0; w0 < width; w0 += L)
                    {
                        long k = (long)r * width + w0;
                        bool full = w0 + L <= width;
                        var tail = Lanes(w0, width);
                        // g's lanes past the row load as 0 and cancel whatever z's hold.
                        var v = full ? Avx.LoadVector256(go + k) : Avx.MaskLoad(go + k, tail);
                        float* zk = zBand + k;
                        a0 = Fma.MultiplyAdd(v, Load(zk, full, tail), a0);
                        a1 = Fma.MultiplyAdd(v, Load(zk + p, full, tail), a1);
                        a2 = Fma.MultiplyAdd(v, Load(zk + 2 * p, full, tail), a2);
                        a3 = Fma.MultiplyAdd(v, Load(zk + 3 * p, full, tail), a3);
                        a4 = Fma.MultiplyAdd(v, Load(zk + 4 * p, full, tail), a4);
                        a5 = Fma.MultiplyAdd(v, Load(zk + 5 * p, full, tail), a5);
                        a6 = Fma.MultiplyAdd(v, Load(zk + 6 * p, full, tail), a6);
                        a7 = Fma.MultiplyAdd(v, Load(zk + 7 * p, full, tail), a7);
                    }
                }
                Avx.Store(partB + (long)o * rp + block * L, Sums(a0, a1, a2, a3, a4, a5, a6, a7));
            }
            // Two input channels at a time share each load of gz (an odd last channel goes with itself).
            for (int c = 0; c < inChannels; c += 2)
                WeightGradPair(packed, gz, gzChannel, partA + (long)block * L * inChannels * s.Taps, sums, rows.Count, s, c, Math.Min(c + 1, inChannels - 1));
        }
    }

    /// <summary>gz[q] += Σ over <paramref name="count"/> (≤ 4) output channels of b[o][q]·g[o] for one vector of a row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddOutputChannels(float* g, long p, int count, float* b, float* gz, long gzChannel, int w0, int w)
    {
        bool full = w0 + L <= w;
        var tail = Lanes(w0, w);
        var v0 = Load(g, full, tail);
        var v1 = count > 1 ? Load(g + p, full, tail) : default;
        var v2 = count > 2 ? Load(g + 2 * p, full, tail) : default;
        var v3 = count > 3 ? Load(g + 3 * p, full, tail) : default;
        for (int q = 0; q < L; q++)
        {
            float* target = gz + q * gzChannel;
            var sum = Fma.MultiplyAdd(Vector256.Create(b[q]), v0, Avx.LoadVector256(target));
            sum = Fma.MultiplyAdd(Vector256.Create(b[L + q]), v1, sum);
            sum = Fma.MultiplyAdd(Vector256.Create(b[2 * L + q]), v2, sum);
            sum = Fma.MultiplyAdd(Vector256.Create(b[3 * L + q]), v3, sum);
            Avx.Store(target, sum);
        }
    }

    /// <summary>
    /// lora_A's gradient over one band for input channels c0 and c1 and one block of 8 rank channels: per tap, the dot
    /// products of the copied input rows shifted by the tap with the 8 channels of gz, into <paramref name="partA"/>
    /// [8][c][taps] (through <paramref name="sums"/>, 16 floats). gz's lanes past a row are zero, so the copied rows'
    /// padding needs no mask.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WeightGradPair(float* packed, float* gz, long gzChannel, float* partA, float* sums, int rows, Shape s, int c0, int c1)
    {
        int wp = s.Wp, wv = s.Wv, width = s.W, kh = s.Kh, kw = s.Kw, taps = s.Taps;
        long rowStride = (long)s.C * wp;
        for (int i = 0; i < kh; i++)
        {
            for (int j = 0; j < kw; j++)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
                for (int r = 0; r < rows; r++)
                {
                    float* x0 = packed + (r + i) * rowStride + (long)c0 * wp + j;
                    float* x1 = packed + (r + i) * rowStride + (long)c1 * wp + j;
                    float* gr = gz + r * wv;
                    for (int w0 = 0; w0 < width; w0 += L)
                    {
                        var u = Avx.LoadVector256(x0 + w0);
                        var v = Avx.LoadVector256(x1 + w0);
                        float* gk = gr + w0;
                        var e = Avx.LoadVector256(gk); a0 = Fma.MultiplyAdd(u, e, a0); b0 = Fma.MultiplyAdd(v, e, b0);
                        e = Avx.LoadVector256(gk + gzChannel); a1 = Fma.MultiplyAdd(u, e, a1); b1 = Fma.MultiplyAdd(v, e, b1);
                        e = Avx.LoadVector256(gk + 2 * gzChannel); a2 = Fma.MultiplyAdd(u, e, a2); b2 = Fma.MultiplyAdd(v, e, b2);
                        e = Avx.LoadVector256(gk + 3 * gzChannel); a3 = Fma.MultiplyAdd(u, e, a3); b3 = Fma.MultiplyAdd(v, e, b3);
                        e = Avx.LoadVector256(gk + 4 * gzChannel); a4 = Fma.MultiplyAdd(u, e, a4); b4 = Fma.MultiplyAdd(v, e, b4);
                        e = Avx.LoadVector256(gk + 5 * gzChannel); a5 = Fma.MultiplyAdd(u, e, a5); b5 = Fma.MultiplyAdd(v, e, b5);
                        e = Avx.LoadVector256(gk + 6 * gzChannel); a6 = Fma.MultiplyAdd(u, e, a6); b6 = Fma.MultiplyAdd(v, e, b6);
                        e = Avx.LoadVector256(gk + 7 * gzChannel); a7 = Fma.MultiplyAdd(u, e, a7); b7 = Fma.MultiplyAdd(v, e, b7);
                    }
                }
                int t = i * kw + j;
                long stride = (long)s.C * taps;
                float* p0 = partA + (long)c0 * taps + t, p1 = partA + (long)c1 * taps + t;
                Avx.Store(sums, Sums(a0, a1, a2, a3, a4, a5, a6, a7));
                Avx.Store(sums + L, Sums(b0, b1, b2, b3, b4, b5, b6, b7));
                for (int q = 0; q < L; q++)
                {
                    p0[q * stride] = sums[q];
                    p1[q * stride] = sums[L + q];
                }
            }
        }
    }

    /// <summary>
    /// output[row][col] = scale · Σ over items of part[item][row][col], added in item order (part: item stride
    /// <paramref name="itemSize"/>, row stride <paramref name="rowStride"/>).
    /// </summary>
    private static void SumItems(float* part, int items, long itemSize, long rowStride, float* output, int rows, int cols, float scale)
    {
        for (int row = 0; row < rows; row++)
        {
            for (int col = 0; col < cols; col++)
            {
                float sum = 0f;
                for (int item = 0; item < items; item++) sum += part[item * itemSize + row * rowStride + col];
                output[(long)row * cols + col] = scale * sum;
            }
        }
    }

    /// <summary>lora_A's weight [r, c, kh, kw] as [block][c][taps][8], zero past r: each tap's 8 weights side by side.</summary>
    private static float* PackWeightA(float* a, Shape s)
    {
        float* packed = Alloc((long)s.Rp * s.C * s.Taps);
        for (int block = 0; block < s.Rp / L; block++)
        {
            for (int c = 0; c < s.C; c++)
            {
                for (int t = 0; t < s.Taps; t++)
                {
                    for (int q = 0; q < L; q++)
                    {
                        int channel = block * L + q;
                        packed[(((long)block * s.C + c) * s.Taps + t) * L + q] = channel < s.R ? a[((long)channel * s.C + c) * s.Taps + t] : 0f;
                    }
                }
            }
        }
        return packed;
    }

    private static Shape ShapeOf(Tensor x, Tensor weightA, int outChannels) =>
        new((int)x.shape[0], (int)x.shape[1], outChannels, (int)x.shape[2], (int)x.shape[3], (int)weightA.shape[0], (int)weightA.shape[2], (int)weightA.shape[3]);
}
