using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>
/// The float32 GroupNorm forward of torch 1.13's CPU kernel, rounding for rounding where it matters: per (sample, group)
/// row the Welford moments of moments_utils.h (8 lanes, chunks of 16 vectors merged as a binary counter, then the lanes
/// merged in order), <c>rstd = 1 / sqrt(max(var, 0) + eps)</c> in float32, and per channel
/// <c>scale = rstd * gamma; bias = fma(-scale, mean, beta); y = fma(scale, x, bias)</c>. At low variance the scale
/// is ~1000 and the terms of <c>scale * x + bias</c> are ~1000 times the output, so the reference's rounding of them
/// shows at the 1e-4 tolerance; an exactly rounded GroupNorm differs from the reference by as much as torch 2's does.
/// Which operations the reference build fused is not documented; on the vae-tiny and unet-tiny fixtures, 8 lanes with
/// unfused moments and a fused affine step reproduce the reference best (16 lanes or fused moments do worse).
/// </summary>
internal static unsafe class GroupNormCpuKernel
{
    private const int ChunkSize = 16;
    private const long ParallelThreshold = 1 << 16;

    // Welford's 1 / (j + 1) for the j-th vector of a chunk, rounded to float once, as torch's static c_vecs.
    private static readonly Vector256<float>[] Reciprocals = [.. Enumerable.Range(1, ChunkSize).Select(k => Vector256.Create(1f / k))];

    /// <summary>CPU float32 input and parameters, each row (one group of one sample) under 2 GiB.</summary>
    public static bool Handles(Tensor input, long groups, Tensor? weight, Tensor? bias) =>
        input.device_type == DeviceType.CPU && input.dtype == ScalarType.Float32
        && (weight is null || weight.dtype == ScalarType.Float32) && (bias is null || bias.dtype == ScalarType.Float32)
        && (input.shape[0] == 0 || input.numel() / (input.shape[0] * groups) * sizeof(float) <= int.MaxValue);

    /// <summary>GroupNorm of <paramref name="input"/> [N, C, *] (no autograd).</summary>
    public static Tensor Forward(Tensor input, long groups, Tensor? weight, Tensor? bias, double eps)
    {
        long n = input.shape[0], channels = input.shape[1];
        long perChannel = channels == 0 || n == 0 ? 0 : input.numel() / (n * channels);
        long groupChannels = channels / groups, rowLength = groupChannels * perChannel, rows = n * groups;
        var x = input.contiguous();
        var y = empty_like(x);
        var gamma = weight?.detach().contiguous();
        var beta = bias?.detach().contiguous();
        float* gammaData = gamma is null ? null : (float*)Address(gamma);
        float* betaData = beta is null ? null : (float*)Address(beta);
        var rowPointers = RowPointers(x, y, rows, rowLength);
        float epsilon = (float)eps;
        void Row(long i)
        {
            float* xp = (float*)rowPointers[i].X, yp = (float*)rowPointers[i].Y;
            var (mean, variance) = RowwiseMoments(xp, rowLength);
            float rstd = 1f / MathF.Sqrt(MathF.Max(variance, 0f) + epsilon);
            long firstChannel = i % groups * groupChannels;
            for (long j = 0; j < groupChannels; j++)
            {
                float scale = rstd * (gammaData is null ? 1f : gammaData[firstChannel + j]);
                float shift = MathF.FusedMultiplyAdd(-scale, mean, betaData is null ? 0f : betaData[firstChannel + j]);
                Affine(xp + j * perChannel, yp + j * perChannel, perChannel, scale, shift);
            }
        }
        // Rows are independent (torch runs them in parallel too); small inputs are not worth the threads.
        if (x.numel() < ParallelThreshold) for (long i = 0; i < rows; i++) Row(i);
        else Parallel.For(0, rows, i => Row(i));
        GC.KeepAlive(gamma);
        GC.KeepAlive(beta);
        GC.KeepAlive(x);
        return y;
    }

    /// <summary>The first byte of a contiguous CPU tensor under 2 GiB (its storage is native, so it never moves).</summary>
    private static IntPtr Address(Tensor tensor) => (IntPtr)Unsafe.AsPointer(ref MemoryMarshal.GetReference(tensor.bytes));

    /// <summary>Where each row of <paramref name="x"/> and <paramref name="y"/> starts; a span stops at 2 GiB, so big tensors go row by row.</summary>
    private static (IntPtr X, IntPtr Y)[] RowPointers(Tensor x, Tensor y, long rows, long rowLength)
    {
        var pointers = new (IntPtr X, IntPtr Y)[rows];
        if (rows == 0 || rowLength == 0) return pointers;
        if (x.numel() * sizeof(float) <= int.MaxValue)
        {
            IntPtr xBase = Address(x), yBase = Address(y);
            for (long i = 0; i < rows; i++) pointers[i] = (xBase + (nint)(i * rowLength * sizeof(float)), yBase + (nint)(i * rowLength * sizeof(float)));
            return pointers;
        }
        using var xRows = x.view(rows, rowLength);
        using var yRows = y.view(rows, rowLength);
        for (long i = 0; i < rows; i++)
        {
            using var xRow = xRows[i];
            using var yRow = yRows[i];
            pointers[i] = (Address(xRow), Address(yRow));
        }
        return pointers;
    }

    private static void Affine(float* x, float* y, long length, float scale, float shift)
    {
        long k = 0;
        var scaleVector = Vector256.Create(scale);
        var shiftVector = Vector256.Create(shift);
        for (; k + Vector256<float>.Count <= length; k += Vector256<float>.Count)
            Vector256.FusedMultiplyAdd(scaleVector, Vector256.Load(x + k), shiftVector).Store(y + k);
        for (; k < length; k++) y[k] = MathF.FusedMultiplyAdd(scale, x[k], shift);
    }

    /// <summary>moments_utils.h RowwiseMoments: (mean, biased variance) of <paramref name="length"/> floats.</summary>
    private static (float Mean, float Variance) RowwiseMoments(float* x, long length)
    {
        const int lanes = 8;
        long vectors = length / lanes;
        long chunks = (vectors + ChunkSize - 1) / ChunkSize;
        int depth = CeilLog2(chunks);
        var counts = new long[depth];
        var means = new Vector256<float>[depth];
        var squares = new Vector256<float>[depth];
        for (long i = 0; i < chunks; i++)
        {
            float* chunk = x + i * ChunkSize * lanes;
            long count = Math.Min(ChunkSize, vectors - i * ChunkSize);
            var m1 = Vector256<float>.Zero;
            var m2 = Vector256<float>.Zero;
            for (long j = 0; j < count; j++)
            {
                var value = Vector256.Load(chunk + j * lanes);
                var delta = value - m1;
                m1 += delta * Reciprocals[j];
                m2 += delta * (value - m1);
            }
            AddMoments(count, m1, m2, ref counts[0], ref means[0], ref squares[0]);
            // A binary counter of partial results: pairs of equal size merge upwards (cascade summation).
            long mask = i + 1;
            for (int level = 1; level < depth && (mask & 1) == 0; level++)
            {
                AddMoments(counts[level - 1], means[level - 1], squares[level - 1], ref counts[level], ref means[level], ref squares[level]);
                counts[level - 1] = 0;
                means[level - 1] = Vector256<float>.Zero;
                squares[level - 1] = Vector256<float>.Zero;
                mask >>= 1;
            }
        }
        for (int level = 1; level < depth; level++) AddMoments(counts[level], means[level], squares[level], ref counts[0], ref means[0], ref squares[0]);

        long total = 0;
        float mean = 0, m2Total = 0;
        for (long i = vectors * lanes; i < length; i++)
        {
            float delta = x[i] - mean;
            ++total;
            mean += delta / total;
            m2Total += delta * (x[i] - mean);
        }
        for (int lane = 0; lane < lanes; lane++)
        {
            long merged = total + vectors;
            float c = merged == 0 ? 0f : (float)vectors / merged;
            float delta = means[0][lane] - mean;
            mean += c * delta;
            m2Total += squares[0][lane] + delta * delta * c * total;
            total = merged;
        }
        return (mean, m2Total / length);
    }

    private static void AddMoments(long addCount, Vector256<float> addMean, Vector256<float> addSquares, ref long count, ref Vector256<float> mean, ref Vector256<float> squares)
    {
        long merged = count + addCount;
        float c = merged == 0 ? 0f : (float)addCount / merged;
        var delta = addMean - mean;
        mean += Vector256.Create(c) * delta;
        squares += addSquares + delta * delta * Vector256.Create(c) * Vector256.Create((float)count);
        count = merged;
    }

    private static int CeilLog2(long x) => x <= 2 ? 1 : 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)(x - 1));
}
