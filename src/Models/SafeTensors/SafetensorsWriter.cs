using System.Buffers.Binary;
using Peft.Typed.Models.IO;
using static TorchSharp.torch;

namespace Peft.Typed.Models.SafeTensors;

/// <summary>
/// Writes safetensors files exactly as the reference writer (huggingface/safetensors) does: 8-byte little-endian
/// header size, compact JSON header padded with spaces to a multiple of 8, then the data packed without gaps,
/// tensors ordered by dtype (widest first, so each one is aligned to its element size) and then by name.
/// The file is written atomically: a temporary file beside the target is written, flushed and renamed over it,
/// so a crash never leaves a half-written checkpoint behind.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>
    /// <paramref name="module"/>'s state dict as diffusers' and transformers' <c>save_pretrained</c> write it (metadata
    /// <c>format: pt</c>), its floating-point tensors in <paramref name="dtype"/>.
    /// </summary>
    public static void SaveModule(nn.Module module, string path, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var state = module.state_dict().Select(kv => KeyValuePair.Create(kv.Key, kv.Value.is_floating_point() ? kv.Value.to_type(dtype) : kv.Value));
        Save(path, state, new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <param name="metadata">The <c>__metadata__</c> map; null writes none (an empty map writes <c>{}</c>, as the reference does).</param>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = tensors.ToList();
        var duplicate = entries.GroupBy(e => e.Key, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"Tensor name '{duplicate.Key}' is given twice.", nameof(tensors));
        if (entries.Any(e => e.Key == "__metadata__")) throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor.", nameof(tensors));

        var ordered = entries
            .Select(e => (e.Key, Tensor: e.Value, DType: SafetensorsDTypes.FromScalarType(e.Value.dtype)))
            .OrderByDescending(e => e.DType)
            .ThenBy(e => e.Key, Comparer<string>.Create(SafetensorsHeader.CompareNames))
            .ToList();
        var infos = new List<SafetensorsTensorInfo>(ordered.Count);
        long offset = 0;
        foreach (var (name, tensor, dtype) in ordered)
        {
            long bytes = tensor.numel() * dtype.ByteSize();
            infos.Add(new SafetensorsTensorInfo(name, dtype, tensor.shape, offset, offset + bytes));
            offset += bytes;
        }
        var header = SafetensorsHeader.Write(infos, metadata);

        AtomicFile.Write(path, stream =>
        {
            Span<byte> size = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(size, (ulong)header.Length);
            stream.Write(size);
            stream.Write(header);
            foreach (var (_, tensor, dtype) in ordered)
            {
                using var scope = NewDisposeScope();
                TensorBytes.WriteTo(stream, tensor.detach().cpu().contiguous(), dtype.ByteSize());
            }
        });
    }
}
