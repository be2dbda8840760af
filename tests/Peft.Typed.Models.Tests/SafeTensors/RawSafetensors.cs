using System.Buffers.Binary;
using System.Text;
using Peft.Typed.Models.SafeTensors;

namespace Peft.Typed.Models.Tests.SafeTensors;

/// <summary>Builds safetensors files byte by byte, independently of the writer under test.</summary>
internal static class RawSafetensors
{
    /// <summary>8-byte little-endian <paramref name="headerSize"/> (default: the header's byte count), the header, the data.</summary>
    public static byte[] Bytes(byte[] header, byte[] data, ulong? headerSize = null)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerSize ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    public static byte[] Bytes(string header, int dataLength = 0, ulong? headerSize = null) =>
        Bytes(Encoding.UTF8.GetBytes(header), new byte[dataLength], headerSize);

    public static string Write(string directory, string fileName, byte[] bytes)
    {
        var path = Path.Combine(directory, fileName);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Asserts that <paramref name="action"/> throws the format error with exactly this file, tensor and problem.</summary>
    public static SafetensorsFormatException AssertFormatError(string path, string? tensor, string problem, Action action)
    {
        var error = Assert.Throws<SafetensorsFormatException>(action);
        Assert.Equal(path, error.FilePath);
        Assert.Equal(tensor, error.TensorName);
        Assert.Equal(tensor is null ? $"{path}: {problem}" : $"{path}: tensor '{tensor}': {problem}", error.Message);
        return error;
    }
}
