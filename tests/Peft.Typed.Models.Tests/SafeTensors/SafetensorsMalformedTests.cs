using Peft.Typed.Models.SafeTensors;
using static Peft.Typed.Models.Tests.SafeTensors.RawSafetensors;

namespace Peft.Typed.Models.Tests.SafeTensors;

/// <summary>One case per way a file can break the format; each asserts the exact message, file and tensor.</summary>
public sealed class SafetensorsMalformedTests : IDisposable
{
    private const string Supported = "BOOL, U8, I8, I16, F16, BF16, I32, F32, F64, I64";

    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-st-bad-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Entry(string dtype, string shape, long begin, long end) =>
        $$"""{"dtype":"{{dtype}}","shape":[{{shape}}],"data_offsets":[{{begin}},{{end}}]}""";

    [Fact]
    public void File_shorter_than_the_size_prefix()
    {
        var path = Write(_dir, "short.safetensors", [1, 0, 0, 0, 0]);
        AssertFormatError(path, null, "file has 5 bytes, fewer than the 8-byte header size", () => SafetensorsFile.Open(path));
    }

    [Fact]
    public void Header_size_beyond_the_file()
    {
        var path = Write(_dir, "beyond.safetensors", Bytes("{}", headerSize: 100));
        AssertFormatError(path, null, "header size 100 runs past the end of the 10 byte file", () => SafetensorsFile.Open(path));
    }

    [Theory]
    [InlineData(100_000_001UL)]
    [InlineData(ulong.MaxValue)]
    [InlineData(0x8000_0000_0000_0000UL)]
    public void Header_size_above_100_MB_is_rejected_before_reading(ulong size)
    {
        var path = Write(_dir, "huge.safetensors", Bytes("{}", headerSize: size));
        AssertFormatError(path, null, $"header size {size} exceeds the 100000000 byte limit", () => SafetensorsFile.Open(path));
    }

    [Fact]
    public void Empty_header()
    {
        var path = Write(_dir, "empty.safetensors", Bytes(""));
        AssertFormatError(path, null, "header is empty", () => SafetensorsFile.Open(path));
    }

    [Theory]
    [InlineData(" {}", "0x20")]
    [InlineData("[]", "0x5B")]
    [InlineData("\"a\"", "0x22")]
    [InlineData("\uFEFF{}", "0xEF")]
    public void Header_not_starting_with_a_brace(string header, string firstByte)
    {
        var path = Write(_dir, "start.safetensors", Bytes(header));
        AssertFormatError(path, null, $"header must start with '{{', found byte {firstByte}", () => SafetensorsFile.Open(path));
    }

    [Fact]
    public void Header_not_UTF8()
    {
        byte[] header = [(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}'];
        var path = Write(_dir, "utf8.safetensors", Bytes(header, []));
        AssertFormatError(path, null, "header is not valid UTF-8", () => SafetensorsFile.Open(path));
    }

    [Theory]
    [InlineData("""{"a":}""", 6)] // '}' cannot start a value
    [InlineData("""{"a":{},}""", 9)] // trailing comma before '}'
    [InlineData("{}\0\0\0\0\0\0", 3)] // padded with NUL instead of spaces
    [InlineData("""{"a":{"dtype":"F32"}""", 21)] // unclosed object: fails just past the 20-byte text
    [InlineData("""{/*c*/}""", 2)] // comments are not JSON
    public void Header_not_valid_JSON(string header, int column)
    {
        var path = Write(_dir, "json.safetensors", Bytes(header));
        var error = AssertFormatError(path, null, $"header is not valid JSON (line 1, byte {column})", () => SafetensorsFile.Open(path));
        Assert.IsAssignableFrom<System.Text.Json.JsonException>(error.InnerException);
    }

    [Fact]
    public void Header_nested_deeper_than_16_levels()
    {
        // '{' is level 1, so the 16th '[' opens level 17: 5 bytes of {"a": then 15 brackets put it at byte 21.
        var header = "{\"a\":" + new string('[', 20) + new string(']', 20) + "}";
        var path = Write(_dir, "deep.safetensors", Bytes(header));
        AssertFormatError(path, null, "header is not valid JSON (line 1, byte 21)", () => SafetensorsFile.Open(path));
    }

    [Fact]
    public void Unpaired_surrogate_escape_in_a_name()
    {
        var path = Write(_dir, "surrogate.safetensors", Bytes("""{"\ud800":{}}"""));
        AssertFormatError(path, null, "a JSON string holds an unpaired UTF-16 surrogate escape", () => SafetensorsFile.Open(path));
    }

    public static TheoryData<string, string, int, string?, string> EntryCases => new()
    {
        // case, header, data bytes, tensor named in the error, problem
        { "entry not an object", """{"a":[]}""", 0, "a", "entry must be an object with dtype, shape and data_offsets, found an array" },
        { "dtype missing", """{"a":{"shape":[],"data_offsets":[0,0]}}""", 0, "a", "missing 'dtype'" },
        { "dtype not a string", """{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}""", 4, "a", "'dtype' must be a string, found a number" },
        { "unknown dtype", "{\"a\":" + Entry("F31", "1", 0, 4) + "}", 4, "a", $"unknown dtype 'F31' (supported: {Supported})" },
        { "dtype in lower case", "{\"a\":" + Entry("f32", "1", 0, 4) + "}", 4, "a", $"unknown dtype 'f32' (supported: {Supported})" },
        { "dtype of the format TorchSharp cannot hold", "{\"a\":" + Entry("U16", "2", 0, 4) + "}", 4, "a", $"dtype 'U16' is not supported (supported: {Supported})" },
        { "shape missing", """{"a":{"dtype":"F32","data_offsets":[0,4]}}""", 4, "a", "missing 'shape'" },
        { "shape not an array", """{"a":{"dtype":"F32","shape":4,"data_offsets":[0,4]}}""", 4, "a", "'shape' must be an array, found a number" },
        { "negative dimension", "{\"a\":" + Entry("F32", "-1", 0, 4) + "}", 4, "a", "'shape' must hold non-negative 64-bit integers, found -1" },
        { "fractional dimension", "{\"a\":" + Entry("F32", "1.0", 0, 4) + "}", 4, "a", "'shape' must hold non-negative 64-bit integers, found 1.0" },
        { "exponent dimension", "{\"a\":" + Entry("F32", "1e0", 0, 4) + "}", 4, "a", "'shape' must hold non-negative 64-bit integers, found 1e0" },
        { "string dimension", "{\"a\":" + Entry("F32", "\"1\"", 0, 4) + "}", 4, "a", "'shape' must hold non-negative 64-bit integers, found \"1\"" },
        { "dimension beyond int64", "{\"a\":" + Entry("F32", "9223372036854775808", 0, 4) + "}", 4, "a", "'shape' must hold non-negative 64-bit integers, found 9223372036854775808" },
        { "offsets missing", """{"a":{"dtype":"F32","shape":[1]}}""", 4, "a", "missing 'data_offsets'" },
        { "one offset", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4]}}""", 4, "a", "data_offsets must hold 2 numbers, found 1" },
        { "three offsets", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}""", 8, "a", "data_offsets must hold 2 numbers, found 3" },
        { "negative offset", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}""", 4, "a", "'data_offsets' must hold non-negative 64-bit integers, found -4" },
        { "offsets reversed", "{\"a\":" + Entry("U8", "4", 4, 0) + "}", 4, "a", "data_offsets [4, 0] end before they begin" },
        { "shape x dtype != byte length", "{\"a\":" + Entry("F32", "2", 0, 4) + "}", 4, "a", "shape [2] of F32 needs 8 bytes but data_offsets [0, 4] hold 4" },
        { "BF16 counted as 2 bytes", "{\"a\":" + Entry("BF16", "3", 0, 3) + "}", 3, "a", "shape [3] of BF16 needs 6 bytes but data_offsets [0, 3] hold 3" },
        { "element count overflows", "{\"a\":" + Entry("U8", "4294967296,4294967296", 0, 0) + "}", 0, "a", "shape [4294967296, 4294967296] is too large" },
        { "byte count overflows", "{\"a\":" + Entry("F64", "2305843009213693952", 0, 0) + "}", 0, "a", "shape [2305843009213693952] is too large" },
        { "offsets past the data", "{\"a\":" + Entry("F32", "1", 0, 4) + "}", 2, "a", "data_offsets [0, 4] run past the data section (2 bytes)" },
        { "overlapping tensors", "{\"a\":" + Entry("U8", "4", 0, 4) + ",\"b\":" + Entry("U8", "4", 2, 6) + "}", 6, "b", "data_offsets [2, 6] overlap the previous tensor (ends at 4)" },
        { "same range twice", "{\"a\":" + Entry("U8", "4", 0, 4) + ",\"b\":" + Entry("U8", "4", 0, 4) + "}", 4, "b", "data_offsets [0, 4] overlap the previous tensor (ends at 4)" },
        { "gap between tensors", "{\"a\":" + Entry("U8", "4", 0, 4) + ",\"b\":" + Entry("U8", "4", 6, 10) + "}", 10, "b", "data_offsets [6, 10] leave a gap after byte 4" },
        { "gap before the first tensor", "{\"a\":" + Entry("U8", "4", 2, 6) + "}", 6, "a", "data_offsets [2, 6] leave a gap after byte 0" },
        { "bytes after the last tensor", "{\"a\":" + Entry("U8", "4", 0, 4) + "}", 6, null, "data section has 6 bytes but the tensors cover 4" },
        { "data but no tensors", "{}", 8, null, "data section has 8 bytes but the tensors cover 0" },
        { "duplicate tensor name", "{\"a\":" + Entry("U8", "4", 0, 4) + ",\"a\":" + Entry("U8", "4", 4, 8) + "}", 8, "a", "appears twice in the header" },
        { "duplicate key in an entry", """{"a":{"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]}}""", 1, "a", "key 'dtype' appears twice" },
        { "unexpected key in an entry", """{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"name":"a"}}""", 1, "a", "unexpected key 'name' (an entry holds only dtype, shape and data_offsets)" },
        { "unpaired surrogate in a dtype", """{"a":{"dtype":"F\udc0032","shape":[1],"data_offsets":[0,4]}}""", 4, "a", "a JSON string holds an unpaired UTF-16 surrogate escape" },
        { "metadata not an object", """{"__metadata__":["pt"]}""", 0, null, "__metadata__ must be an object of strings, found an array" },
        { "metadata value not a string", """{"__metadata__":{"epoch":1}}""", 0, null, "__metadata__ value 'epoch' must be a string, found a number" },
        { "metadata key twice", """{"__metadata__":{"format":"pt","format":"np"}}""", 0, null, "__metadata__ key 'format' appears twice" },
        { "metadata twice", """{"__metadata__":{},"__metadata__":{}}""", 0, null, "__metadata__ appears twice in the header" },
    };

    [Theory]
    [MemberData(nameof(EntryCases))]
    public void Malformed_header_entry(string @case, string header, int dataLength, string? tensor, string problem)
    {
        var path = Write(_dir, "entry.safetensors", Bytes(header, dataLength));
        AssertFormatError(path, tensor, problem, () => SafetensorsFile.Open(path));
        Assert.NotEmpty(@case);
    }

    [Fact]
    public void Accepted_edge_cases_of_the_reference_reader()
    {
        // Null metadata (an absent optional map), zero-sized tensors sharing an offset, a scalar, unpadded
        // header with trailing whitespace, and tensors listed out of offset order are all valid.
        var header = "{\"__metadata__\":null,\"z\":" + Entry("F32", "", 4, 8) + ",\"e1\":" + Entry("F32", "0,3", 0, 0) +
                     ",\"e2\":" + Entry("I64", "5,0", 0, 0) + ",\"b\":" + Entry("BOOL", "4", 0, 4) + "}\t\n ";
        var path = Write(_dir, "edge.safetensors", Bytes(header, 8));
        using var file = SafetensorsFile.Open(path);
        Assert.Empty(file.Metadata);
        Assert.Equal(["z", "e1", "e2", "b"], file.Names);
        Assert.Equal(new long[] { 0, 3 }, file.Load("e1").shape);
        Assert.Equal(new long[] { 5, 0 }, file.Load("e2").shape);
        Assert.Empty(file.Load("z").shape);
        Assert.Equal(new[] { false, false, false, false }, file.Load("b").data<bool>().ToArray());
    }

    [Fact]
    public void Missing_file_is_an_IO_error_not_a_format_error()
    {
        var path = Path.Combine(_dir, "absent.safetensors");
        var error = Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Open(path));
        Assert.Equal(path, error.FileName);
    }

    [Fact]
    public void Unknown_tensor_name_is_a_key_error()
    {
        var path = Write(_dir, "one.safetensors", Bytes("{\"a\":" + Entry("U8", "1", 0, 1) + "}", 1));
        using var file = SafetensorsFile.Open(path);
        var error = Assert.Throws<KeyNotFoundException>(() => file.Load("b"));
        Assert.Equal($"{path}: no tensor 'b'.", error.Message);
    }
}
