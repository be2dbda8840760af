using System.Text;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.SafeTensors;

/// <summary>The writer's bytes against files built by hand, the reference implementation's own test vectors, and the fixtures.</summary>
public sealed class SafetensorsWriterBytesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-st-bytes-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private byte[] Save(IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var path = Path.Combine(_dir, "out.safetensors");
        SafetensorsWriter.Save(path, tensors, metadata);
        return File.ReadAllBytes(path);
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    [Fact]
    public void Small_dict_matches_a_hand_built_file()
    {
        using var scope = NewDisposeScope();
        var bytes = Save(new Dictionary<string, Tensor>
        {
            ["c"] = tensor(new byte[] { 7, 8, 9 }),
            ["a"] = tensor(1.5f),
            ["b"] = tensor(new long[] { 1, -2 }),
        }, new Dictionary<string, string> { ["format"] = "pt" });

        // I64 first, then F32, then U8 (widest dtype first); a 194-byte header padded to 200 with spaces.
        byte[] expected =
        [
            200, 0, 0, 0, 0, 0, 0, 0,
            .. Ascii("""{"__metadata__":{"format":"pt"},"b":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"a":{"dtype":"F32","shape":[],"data_offsets":[16,20]},"c":{"dtype":"U8","shape":[3],"data_offsets":[20,23]}}"""),
            .. Ascii("      "),
            1, 0, 0, 0, 0, 0, 0, 0, // 1L
            0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // -2L
            0x00, 0x00, 0xC0, 0x3F, // 1.5f = 0x3FC00000
            7, 8, 9,
        ];
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void Reference_vector_attn_0_needs_no_padding()
    {
        // huggingface/safetensors tensor.rs test_serialization: a 64-byte header and floats 0..5.
        using var scope = NewDisposeScope();
        var bytes = Save(new Dictionary<string, Tensor> { ["attn.0"] = TensorArithmetic.Arange(6, ScalarType.Float32).reshape(1, 2, 3) });
        byte[] expected =
        [
            64, 0, 0, 0, 0, 0, 0, 0,
            .. Ascii("""{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}"""),
            0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
        ];
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void Reference_vector_attn0_is_padded_to_72_bytes()
    {
        // tensor.rs test_serialization_forced_alignement: 65 header bytes plus 7 spaces.
        using var scope = NewDisposeScope();
        var bytes = Save(new Dictionary<string, Tensor> { ["attn0"] = TensorArithmetic.Arange(6, ScalarType.Float32).reshape(1, 1, 2, 3) });
        byte[] expected =
        [
            72, 0, 0, 0, 0, 0, 0, 0,
            .. Ascii("""{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       """),
            0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
        ];
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void Reference_vectors_for_an_empty_file()
    {
        // tensor.rs test_empty: no metadata, then metadata {"framework": "pt"}.
        Assert.Equal([8, 0, 0, 0, 0, 0, 0, 0, .. Ascii("{}      ")], Save([]));
        Assert.Equal([40, 0, 0, 0, 0, 0, 0, 0, .. Ascii("""{"__metadata__":{"framework":"pt"}}     """)],
            Save([], new Dictionary<string, string> { ["framework"] = "pt" }));
    }

    [Fact]
    public void Empty_metadata_is_written_as_an_empty_object()
    {
        Assert.Equal([24, 0, 0, 0, 0, 0, 0, 0, .. Ascii("""{"__metadata__":{}}     """)], Save([], new Dictionary<string, string>()));
    }

    [Fact]
    public void Names_and_metadata_are_not_HTML_escaped()
    {
        using var scope = NewDisposeScope();
        var bytes = Save(new Dictionary<string, Tensor> { ["a+b<c>/é"] = tensor(new byte[] { 1 }) },
            new Dictionary<string, string> { ["note"] = "x & 'y' \"q\" \\ \n" });
        var header = """{"__metadata__":{"note":"x & 'y' \"q\" \\ \n"},"a+b<c>/é":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""";
        var headerBytes = Encoding.UTF8.GetBytes(header); // 107 bytes (é is 2 in UTF-8), padded with 5 spaces
        Assert.Equal([112, 0, 0, 0, 0, 0, 0, 0, .. headerBytes, .. Ascii("     "), 1], bytes);
    }

    [Fact]
    public void Rewriting_every_fixture_reproduces_it_byte_for_byte()
    {
        // The fixtures were written by an independent writer that follows the reference (sorted, compact, padded).
        var files = Directory.EnumerateFiles(Fixtures.Directory, "*.safetensors", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);
        foreach (var fixture in files)
        {
            using var scope = NewDisposeScope();
            Dictionary<string, Tensor> tensors;
            IReadOnlyDictionary<string, string> metadata;
            using (var file = SafetensorsFile.Open(fixture))
            {
                tensors = file.Names.ToDictionary(n => n, n => file.Load(n));
                metadata = file.Metadata;
            }
            var written = Save(tensors, metadata);
            Assert.True(File.ReadAllBytes(fixture).AsSpan().SequenceEqual(written), $"{Path.GetRelativePath(Fixtures.Directory, fixture)} differs when rewritten");
        }
    }
}
