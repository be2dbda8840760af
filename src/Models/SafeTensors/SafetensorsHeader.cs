using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Peft.Typed.Models.SafeTensors;

/// <summary>
/// Parses and validates a safetensors header strictly: everything the reference implementation
/// (huggingface/safetensors) rejects is rejected, and so are duplicate names and keys it would silently overwrite.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>Headers above this size are rejected before reading them (the reference limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>A valid header nests three levels (header, entry, shape); anything far deeper is an attack, not a checkpoint.</summary>
    public const int MaxJsonDepth = 16;

    private const string MetadataKey = "__metadata__";

    private static readonly string[] EntryKeys = ["dtype", "shape", "data_offsets"];

    /// <summary>Dtypes of the format that TorchSharp cannot hold; named so the error says "unsupported", not "unknown".</summary>
    private static readonly string[] UnsupportedDTypes = ["F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "U16", "U32", "U64", "C64"];

    public static (IReadOnlyList<SafetensorsTensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata) Parse(
        string path, ReadOnlySpan<byte> header, long dataLength)
    {
        if (header.IsEmpty)
            throw new SafetensorsFormatException(path, null, "header is empty");
        if (header[0] != (byte)'{')
            throw new SafetensorsFormatException(path, null, $"header must start with '{{', found byte 0x{header[0]:X2}");
        if (!Utf8.IsValid(header))
            throw new SafetensorsFormatException(path, null, "header is not valid UTF-8");

        using var document = ParseJson(path, header.ToArray(), "header");
        var tensors = new List<SafetensorsTensorInfo>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            var name = NameOf(path, null, property);
            if (!seen.Add(name))
                throw name == MetadataKey
                    ? new SafetensorsFormatException(path, null, "__metadata__ appears twice in the header")
                    : new SafetensorsFormatException(path, name, "appears twice in the header");
            if (name == MetadataKey)
                ReadMetadata(path, property.Value, metadata);
            else
                tensors.Add(ReadTensor(path, name, property.Value));
        }
        CheckLayout(path, tensors, dataLength);
        return (tensors, metadata);
    }

    /// <summary>Parses JSON text (already checked to be UTF-8) into a document, as a format error if it is not JSON.</summary>
    public static JsonDocument ParseJson(string path, ReadOnlyMemory<byte> json, string what)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = MaxJsonDepth });
        }
        catch (JsonException e)
        {
            // The reader's 0-based line and byte make a position a person can find in the file.
            throw new SafetensorsFormatException(path, null,
                $"{what} is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})", e);
        }
    }

    /// <summary>A property name; the reader defers decoding escapes, so an unpaired surrogate (<c>\ud800</c>) surfaces only here.</summary>
    public static string NameOf(string path, string? tensor, JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException e)
        {
            throw UnpairedSurrogate(path, tensor, e);
        }
    }

    /// <summary>A string value, decoded with the same unpaired-surrogate check as <see cref="NameOf"/>.</summary>
    public static string StringOf(string path, string? tensor, JsonElement value)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw UnpairedSurrogate(path, tensor, e);
        }
    }

    private static SafetensorsFormatException UnpairedSurrogate(string path, string? tensor, Exception inner) =>
        new(path, tensor, "a JSON string holds an unpaired UTF-16 surrogate escape", inner);

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        // The reference reads __metadata__ as an optional map, so null means "none".
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafetensorsFormatException(path, null, $"__metadata__ must be an object of strings, found {Kind(value)}");
        foreach (var entry in value.EnumerateObject())
        {
            var key = NameOf(path, null, entry);
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new SafetensorsFormatException(path, null, $"__metadata__ value '{key}' must be a string, found {Kind(entry.Value)}");
            if (!metadata.TryAdd(key, StringOf(path, null, entry.Value)))
                throw new SafetensorsFormatException(path, null, $"__metadata__ key '{key}' appears twice");
        }
    }

    private static SafetensorsTensorInfo ReadTensor(string path, string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafetensorsFormatException(path, name, $"entry must be an object with dtype, shape and data_offsets, found {Kind(value)}");
        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var field in value.EnumerateObject())
        {
            var key = NameOf(path, name, field);
            if (!EntryKeys.Contains(key))
                throw new SafetensorsFormatException(path, name, $"unexpected key '{key}' (an entry holds only dtype, shape and data_offsets)");
            if (!fields.TryAdd(key, field.Value))
                throw new SafetensorsFormatException(path, name, $"key '{key}' appears twice");
        }

        var dtypeText = StringOf(path, name, Field(path, name, fields, "dtype", JsonValueKind.String));
        if (!SafetensorsDTypes.TryParse(dtypeText, out var dtype))
        {
            var supported = string.Join(", ", Enum.GetNames<SafetensorsDType>());
            throw new SafetensorsFormatException(path, name, UnsupportedDTypes.Contains(dtypeText)
                ? $"dtype '{dtypeText}' is not supported (supported: {supported})"
                : $"unknown dtype '{dtypeText}' (supported: {supported})");
        }

        var shape = ReadIntegers(path, name, Field(path, name, fields, "shape", JsonValueKind.Array), "shape");
        var offsets = ReadIntegers(path, name, Field(path, name, fields, "data_offsets", JsonValueKind.Array), "data_offsets");
        if (offsets.Count != 2)
            throw new SafetensorsFormatException(path, name, $"data_offsets must hold 2 numbers, found {offsets.Count}");
        if (offsets[1] < offsets[0])
            throw new SafetensorsFormatException(path, name, $"data_offsets [{offsets[0]}, {offsets[1]}] end before they begin");

        long expected;
        try
        {
            long elements = 1;
            foreach (var d in shape) elements = checked(elements * d);
            expected = checked(elements * dtype.ByteSize());
        }
        catch (OverflowException)
        {
            throw new SafetensorsFormatException(path, name, $"shape [{string.Join(", ", shape)}] is too large");
        }
        if (expected != offsets[1] - offsets[0])
            throw new SafetensorsFormatException(path, name,
                $"shape [{string.Join(", ", shape)}] of {dtypeText} needs {expected} bytes but data_offsets [{offsets[0]}, {offsets[1]}] hold {offsets[1] - offsets[0]}");
        return new SafetensorsTensorInfo(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static JsonElement Field(string path, string name, Dictionary<string, JsonElement> fields, string key, JsonValueKind kind)
    {
        if (!fields.TryGetValue(key, out var value))
            throw new SafetensorsFormatException(path, name, $"missing '{key}'");
        if (value.ValueKind != kind)
            throw new SafetensorsFormatException(path, name, $"'{key}' must be {(kind == JsonValueKind.String ? "a string" : "an array")}, found {Kind(value)}");
        return value;
    }

    private static List<long> ReadIntegers(string path, string name, JsonElement array, string key)
    {
        var result = new List<long>();
        foreach (var item in array.EnumerateArray())
        {
            // TryGetInt64 refuses fractions and exponents ("2.0", "2e0"), as the reference's unsigned integers do.
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var number) || number < 0)
                throw new SafetensorsFormatException(path, name, $"'{key}' must hold non-negative 64-bit integers, found {item.GetRawText()}");
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

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    /// <summary>
    /// Serialises a header as the reference writer does: compact JSON, <c>__metadata__</c> first (when given),
    /// entries in the given order, padded with spaces to a multiple of 8 bytes so the data section is 8-byte aligned.
    /// </summary>
    public static byte[] Write(IReadOnlyList<SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        using var stream = new MemoryStream();
        // The default encoder escapes HTML-sensitive characters ('<', '+', non-ASCII); the reference writer escapes
        // only quotes, backslashes and control characters, and the header is never embedded in HTML.
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is not null)
            {
                json.WriteStartObject(MetadataKey);
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

    /// <summary>Orders names by their UTF-8 bytes, as the reference writer (Rust string order) does.</summary>
    public static int CompareNames(string left, string right) =>
        Encoding.UTF8.GetBytes(left).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(right));
}
