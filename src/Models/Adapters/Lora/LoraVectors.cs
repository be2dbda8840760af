using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Peft.Typed.Models.Adapters.Lora;

/// <summary>The 256-bit vector helpers, native buffers and thread options the LoRA kernels share.</summary>
internal static unsafe class LoraVectors
{
    /// <summary>True on a CPU with the AVX2 and FMA instructions the kernels use.</summary>
    public static bool Supported => Fma.IsSupported && Avx2.IsSupported;

    /// <summary>A Parallel.For on at most <paramref name="threads"/> threads (at least one).</summary>
    public static ParallelOptions Options(int threads) => new() { MaxDegreeOfParallelism = Math.Max(1, threads) };

    /// <summary>One vector whose lane q holds the sum of vq's lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sums(Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3,
        Vector256<float> v4, Vector256<float> v5, Vector256<float> v6, Vector256<float> v7)
    {
        var low = Avx.HorizontalAdd(Avx.HorizontalAdd(v0, v1), Avx.HorizontalAdd(v2, v3));
        var high = Avx.HorizontalAdd(Avx.HorizontalAdd(v4, v5), Avx.HorizontalAdd(v6, v7));
        return Avx.Add(Avx.Permute2x128(low, high, 0x20), Avx.Permute2x128(low, high, 0x31));
    }

    /// <summary>The lanes of the vector at element k of a row of n that lie inside the row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Lanes(int k, int n) =>
        Vector256.LessThan(Vector256.Create(k) + Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(n)).AsSingle();

    /// <summary>The vector at p, or its <paramref name="tail"/> lanes (the rest 0) where it is not <paramref name="full"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* p, bool full, Vector256<float> tail) => full ? Avx.LoadVector256(p) : Avx.MaskLoad(p, tail);

    /// <summary>A 64-byte aligned native buffer; the caller frees it with <see cref="NativeMemory.AlignedFree"/>.</summary>
    public static float* Alloc(long floats) => (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);

    public static float* AllocZeroed(long floats)
    {
        float* memory = Alloc(floats);
        new Span<float>(memory, checked((int)floats)).Clear();
        return memory;
    }
}
