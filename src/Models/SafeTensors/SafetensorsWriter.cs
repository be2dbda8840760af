using static TorchSharp.torch;

namespace Peft.Typed.Models.SafeTensors;

/// <summary>
/// Writes safetensors files exactly as the format specifies (8-byte little-endian header size, JSON header
/// padded with spaces to 8 bytes, contiguous data in header order), atomically: a temporary file is written,
/// flushed and renamed over the target, so a crash never leaves a half-written file behind.
/// </summary>
public static class SafetensorsWriter
{
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = tensors.ToList();
        var duplicate = entries.GroupBy(e => e.Key, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"Tensor name '{duplicate.Key}' is given twice.", nameof(tensors));
        if (entries.Any(e => e.Key == "__metadata__")) throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor.", nameof(tensors));

        var infos = new List<SafetensorsTensorInfo>(entries.Count);
        long offset = 0;
        foreach (var (name, tensor) in entries)
        {
            var dtype = SafetensorsDTypes.FromScalarType(tensor.dtype);
            long bytes = tensor.numel() * dtype.ByteSize();
            infos.Add(new SafetensorsTensorInfo(name, dtype, tensor.shape, offset, offset + bytes));
            offset += bytes;
        }
        var header = SafetensorsHeader.Write(infos, metadata);

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Span<byte> size = stackalloc byte[8];
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(size, (ulong)header.Length);
                stream.Write(size);
                stream.Write(header);
                foreach (var (_, tensor) in entries)
                {
                    using var scope = NewDisposeScope();
                    var cpuTensor = tensor.detach().cpu().contiguous();
                    stream.Write(cpuTensor.bytes);
                }
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
