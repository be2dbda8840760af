using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Peft.Typed.Models.IO;

namespace Peft.Typed.Models.Imaging;

/// <summary>
/// Writes 8-bit RGB PNG files without an imaging library: one IHDR, one zlib-compressed IDAT (every scanline with
/// filter type 0), IEND. Enough for saving generated images; decoding inputs is the Training project's job (ImageSharp).
/// </summary>
public static class PngEncoder
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes <paramref name="rgb"/> (row-major, 3 bytes per pixel, no padding) as a PNG file.</summary>
    /// <exception cref="ArgumentException">The sizes are not positive or do not match the pixel count.</exception>
    public static byte[] Encode(int width, int height, ReadOnlySpan<byte> rgb)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"PNG size must be positive, got {width}x{height}.", nameof(width));
        long expected = 3L * width * height;
        if (rgb.Length != expected)
            throw new ArgumentException($"A {width}x{height} RGB image has {expected} bytes, got {rgb.Length}.", nameof(rgb));

        using var output = new MemoryStream();
        output.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;  // bit depth
        header[9] = 2;  // colour type: truecolour (RGB)
        header[10] = 0; // compression: deflate
        header[11] = 0; // filter method 0
        header[12] = 0; // no interlace
        WriteChunk(output, "IHDR", header);
        WriteChunk(output, "IDAT", Compress(width, height, rgb));
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    /// <summary>Writes <see cref="Encode"/>'s bytes to <paramref name="path"/> atomically (<see cref="AtomicFile"/>).</summary>
    public static void Save(string path, int width, int height, ReadOnlySpan<byte> rgb) => AtomicFile.WriteAllBytes(path, Encode(width, height, rgb));

    private static byte[] Compress(int width, int height, ReadOnlySpan<byte> rgb)
    {
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            int stride = 3 * width;
            for (int y = 0; y < height; y++)
            {
                zlib.WriteByte(0); // filter type None
                zlib.Write(rgb.Slice(y * stride, stride));
            }
        }
        return compressed.ToArray();
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Compute(typeBytes, data));
        output.Write(word);
    }
}
