using System.Buffers.Binary;
using System.Text.Json;

namespace Peft.Typed.Architecture.Tests.Support;

/// <summary>Reads the tensor names and shapes of a .safetensors file: 8-byte little-endian header length, then JSON.</summary>
public static class SafetensorsHeader
{
    public static IReadOnlyDictionary<string, long[]> Read(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        var header = new byte[checked((int)BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes))];
        stream.ReadExactly(header);
        using var document = JsonDocument.Parse(header);
        return document.RootElement.EnumerateObject()
            .Where(p => p.Name != "__metadata__")
            .ToDictionary(p => p.Name, p => p.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray());
    }
}
