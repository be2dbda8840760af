using System.Text.Json;

namespace Peft.Typed.Models.SafeTensors;

/// <summary>Parses and validates a safetensors header strictly, as the reference implementation does.</summary>
internal static class SafetensorsHeader
{
    /// <summary>Headers above this size are rejected before reading them (the reference limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public static (IReadOnlyList<SafetensorsTensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata) Parse(
        string path, ReadOnlySpan<byte> header, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException(path, null, $"header is not valid JSON ({e.Message})", e);
        }
        catch (ArgumentException e)
        {
            throw new SafetensorsFormatException(path, null, "header is not valid UTF-8 JSON", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new SafetensorsFormatException(path, null, $"header must be a JSON object, found {document.RootElement.ValueKind}");

            var tensors = new List<SafetensorsTensorInfo>();
            var metadata = new Dictionary<string, string>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new SafetensorsFormatException(path, property.Name, "appears twice in the header");
                if (property.Name == "__metadata__")
                    ReadMetadata(path, property.Value, metadata);
                else
                    tensors.Add(ReadTensor(path, property.Name, property.Value));
            }
            CheckLayout(path, tensors, dataLength);
            return (tensors, metadata);
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafetensorsFormatException(path, null, "__metadata__ must be an object of strings");
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new SafetensorsFormatException(path, null, $"__metadata__ value '{entry.Name}' must be a string");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                throw new SafetensorsFormatException(path, null, $"__metadata__ key '{entry.Name}' appears twice");
        }
    }

    private static SafetensorsTensorInfo ReadTensor(string path, string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafetensorsFormatException(path, name, "entry must be an object with dtype, shape and data_offsets");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new SafetensorsFormatException(path, name, "missing string 'dtype'");
        var dtypeText = dtypeElement.GetString()!;
        if (!SafetensorsDTypes.TryParse(dtypeText, out var dtype))
            throw new SafetensorsFormatException(path, name, $"unknown dtype '{dtypeText}' (supported: {string.Join(", ", Enum.GetNames<SafetensorsDType>())})");

        var shape = ReadIntegers(path, name, value, "shape");
        var offsets = ReadIntegers(path, name, value, "data_offsets");
        if (offsets.Count != 2)
            throw new SafetensorsFormatException(path, name, $"data_offsets must hold 2 numbers, found {offsets.Count}");
        if (offsets[1] < offsets[0])
            throw new SafetensorsFormatException(path, name, $"data_offsets [{offsets[0]}, {offsets[1]}] end before they begin");

        long elements = 1;
        try
        {
            foreach (var d in shape) elements = checked(elements * d);
            long expected = checked(elements * dtype.ByteSize());
            if (expected != offsets[1] - offsets[0])
                throw new SafetensorsFormatException(path, name,
                    $"shape [{string.Join(", ", shape)}] of {dtypeText} needs {expected} bytes but data_offsets [{offsets[0]}, {offsets[1]}] hold {offsets[1] - offsets[0]}");
        }
        catch (OverflowException)
        {
            throw new SafetensorsFormatException(path, name, $"shape [{string.Join(", ", shape)}] is too large");
        }
        return new SafetensorsTensorInfo(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static List<long> ReadIntegers(string path, string name, JsonElement value, string key)
    {
        if (!value.TryGetProperty(key, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new SafetensorsFormatException(path, name, $"missing array '{key}'");
        var result = new List<long>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var number) || number < 0)
                throw new SafetensorsFormatException(path, name, $"'{key}' must hold non-negative integers, found {item.GetRawText()}");
            result.Add(number);
        }
        return result;
    }

    /// <summary>The data section must be covered exactly: no gaps, no overlaps, nothing past its end.</summary>
    private static void CheckLayout(string path, List<SafetensorsTensorInfo> tensors, long dataLength)
    {
        long position = 0;
        foreach (var tensor in tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (tensor.End > dataLength)
                throw new SafetensorsFormatException(path, tensor.Name, $"data_offsets [{tensor.Begin}, {tensor.End}] run past the data section ({dataLength} bytes)");
            if (tensor.Begin < position)
                throw new SafetensorsFormatException(path, tensor.Name, $"data_offsets [{tensor.Begin}, {tensor.End}] overlap the previous tensor (ends at {position})");
            if (tensor.Begin > position)
                throw new SafetensorsFormatException(path, tensor.Name, $"data_offsets [{tensor.Begin}, {tensor.End}] leave a gap after byte {position}");
            position = tensor.End;
        }
        if (position != dataLength)
            throw new SafetensorsFormatException(path, null, $"data section has {dataLength} bytes but the tensors cover {position}");
    }

    /// <summary>Serialises a header (metadata first) padded with spaces to a multiple of 8 bytes.</summary>
    public static byte[] Write(IReadOnlyList<SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            foreach (var tensor in tensors)
            {
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.DType.ToString());
                json.WriteStartArray("shape");
                foreach (var d in tensor.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(tensor.Begin);
                json.WriteNumberValue(tensor.End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int length = (int)stream.Length;
        int padded = (length + 7) / 8 * 8;
        var bytes = new byte[padded];
        stream.GetBuffer().AsSpan(0, length).CopyTo(bytes);
        bytes.AsSpan(length).Fill((byte)' ');
        return bytes;
    }
}
