using static TorchSharp.torch;

namespace Peft.Typed.Models.SafeTensors;

/// <summary>
/// Copies raw bytes into and out of contiguous CPU tensors. A span stops at 2 GiB, so bigger tensors go through
/// contiguous 1-D views of at most <see cref="ChunkBytes"/> bytes each.
/// </summary>
internal static unsafe class TensorBytes
{
    public const long ChunkBytes = 1L << 30;

    /// <summary>Fills <paramref name="destination"/> (freshly allocated, contiguous) from <paramref name="source"/>.</summary>
    public static void CopyInto(Tensor destination, byte* source, int elementSize, long chunkBytes = ChunkBytes)
    {
        long byteLength = destination.numel() * elementSize;
        if (byteLength <= chunkBytes)
        {
            new ReadOnlySpan<byte>(source, (int)byteLength).CopyTo(destination.bytes);
            return;
        }
        using var flat = destination.view(-1);
        foreach (var (start, count) in Chunks(flat.shape[0], elementSize, chunkBytes))
        {
            using var part = flat.narrow(0, start, count);
            new ReadOnlySpan<byte>(source + start * elementSize, (int)(count * elementSize)).CopyTo(part.bytes);
        }
    }

    /// <summary>Writes the bytes of <paramref name="source"/> (contiguous, on the CPU) to <paramref name="stream"/>.</summary>
    public static void WriteTo(Stream stream, Tensor source, int elementSize, long chunkBytes = ChunkBytes)
    {
        if (source.numel() * elementSize <= chunkBytes)
        {
            stream.Write(source.bytes);
            return;
        }
        using var flat = source.view(-1);
        foreach (var (start, count) in Chunks(flat.shape[0], elementSize, chunkBytes))
        {
            using var part = flat.narrow(0, start, count);
            stream.Write(part.bytes);
        }
    }

    private static IEnumerable<(long Start, long Count)> Chunks(long elements, int elementSize, long chunkBytes)
    {
        long perChunk = Math.Max(1, chunkBytes / elementSize);
        for (long start = 0; start < elements; start += perChunk)
            yield return (start, Math.Min(perChunk, elements - start));
    }
}
