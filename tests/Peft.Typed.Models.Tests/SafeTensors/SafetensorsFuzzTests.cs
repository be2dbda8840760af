using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.SafeTensors;

/// <summary>
/// Seeded, bounded fuzzing: valid files (fixtures and synthetic ones) are mutated, and opening plus loading every
/// tensor must either give tensors that match their header entries or throw <see cref="SafetensorsFormatException"/>:
/// never another exception, never a hang.
/// </summary>
public sealed partial class SafetensorsFuzzTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private const int Seed = 20_241_126;
    private const int Cases = 300;
    private static readonly TimeSpan PerCase = TimeSpan.FromSeconds(10);

    /// <summary>Replacement tokens: structure, keys, dtypes, edge numbers, bad strings and bytes, deep nesting.</summary>
    private static readonly string[] Tokens =
    [
        "{", "}", "[", "]", ",", ":", "\"", "", " ", "null", "true", "{}", "[]",
        "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "\"F32\"", "\"I64\"", "\"BOOL\"", "\"BF16\"", "\"U16\"", "\"f32\"",
        "0", "1", "-1", "4", "7", "1.5", "1e3", "-0", "2147483648", "4294967296", "9223372036854775807", "9223372036854775808", "18446744073709551616",
        "\"\\ud800\"", "\"\\u0000\"", "\"\\\"\"", "\u00FF", "\u00C3(", "\u0000",
        new string('[', 40), new string('{', 40),
    ];

    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-st-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Mutated_files_give_valid_tensors_or_a_format_error()
    {
        var seeds = SeedFiles();
        var random = new Random(Seed);
        int loaded = 0, rejected = 0;
        for (int i = 0; i < Cases; i++)
        {
            var (label, original) = seeds[i % seeds.Count];
            var (mutation, bytes) = Mutate(random, original);
            var path = Path.Combine(_dir, $"case-{i:D3}.safetensors");
            File.WriteAllBytes(path, bytes);

            var run = Task.Run(() => OpenAndLoadAll(path));
            var finished = await Task.WhenAny(run, Task.Delay(PerCase)) == run;
            Assert.True(finished, $"case {i} ({label}, {mutation}) did not finish within {PerCase.TotalSeconds} s");
            switch (await run)
            {
                case null: loaded++; break;
                case SafetensorsFormatException error when error.FilePath == path: rejected++; break;
                case var other: Assert.Fail($"case {i} ({label}, {mutation}) threw {other}"); break;
            }
        }
        output.WriteLine($"{Cases} mutated files: {loaded} loaded, {rejected} rejected");
        // Both outcomes must occur, or the mutations are not exercising the reader.
        Assert.True(loaded >= 20 && rejected >= 100, $"{loaded} loaded, {rejected} rejected");
    }

    /// <summary>Null when every tensor loaded and matched its header entry; otherwise what was thrown.</summary>
    private static Exception? OpenAndLoadAll(string path)
    {
        try
        {
            using var scope = NewDisposeScope();
            using var file = SafetensorsFile.Open(path);
            foreach (var info in file.Tensors)
            {
                var tensor = file.Load(info.Name);
                if (!tensor.shape.SequenceEqual(info.Shape) || tensor.dtype != info.DType.ToScalarType() ||
                    tensor.numel() * info.DType.ByteSize() != info.ByteLength)
                    return new InvalidOperationException($"tensor '{info.Name}' loaded as {tensor.dtype} [{string.Join(", ", tensor.shape)}], header says {info.DType} [{string.Join(", ", info.Shape)}] in {info.ByteLength} bytes");
            }
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private List<(string Label, byte[] Bytes)> SeedFiles()
    {
        var seeds = new List<(string, byte[])>();
        foreach (var fixture in new[]
                 {
                     Fixtures.PathOf("unet-tiny", "case.safetensors"),
                     Fixtures.PathOf("schedulers", "ddpm", "tensors.safetensors"),
                     Fixtures.PathOf("peft", "cases", "lokr", "adapter_model.safetensors"),
                     Fixtures.PathOf("peft", "inputs.safetensors"),
                 })
            seeds.Add((Path.GetRelativePath(Fixtures.Directory, fixture), File.ReadAllBytes(fixture)));

        using var scope = NewDisposeScope();
        var every = Path.Combine(_dir, "every-dtype.safetensors");
        SafetensorsWriter.Save(every, new Dictionary<string, Tensor>
        {
            ["f32"] = randn(3, 2), ["f64"] = randn(2, dtype: ScalarType.Float64), ["f16"] = randn(3, dtype: ScalarType.Float16),
            ["bf16"] = randn(1, 3, dtype: ScalarType.BFloat16), ["i64"] = TensorArithmetic.Arange(3, ScalarType.Int64), ["i32"] = TensorArithmetic.Arange(2, ScalarType.Int32),
            ["i16"] = TensorArithmetic.Arange(3, ScalarType.Int16), ["i8"] = TensorArithmetic.Arange(5, ScalarType.Int8), ["u8"] = TensorArithmetic.Arange(4, ScalarType.Byte),
            ["bool"] = tensor(new[] { true, false }), ["scalar"] = tensor(2.5f), ["empty"] = zeros(0, 3),
        }, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "every dtype" });
        seeds.Add(("every-dtype", File.ReadAllBytes(every)));

        var single = Path.Combine(_dir, "single.safetensors");
        SafetensorsWriter.Save(single, new Dictionary<string, Tensor> { ["w"] = tensor(new[] { 1f, 2f }) });
        seeds.Add(("single", File.ReadAllBytes(single)));
        return seeds;
    }

    private static (string Mutation, byte[] Bytes) Mutate(Random random, byte[] original)
    {
        var bytes = (byte[])original.Clone();
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(original);
        int dataStart = 8 + headerLength;
        switch (random.Next(9))
        {
            case 0:
            {
                int flips = random.Next(1, 5);
                for (int k = 0; k < flips; k++) bytes[8 + random.Next(headerLength)] ^= (byte)random.Next(1, 256);
                return ($"{flips} header byte(s) flipped", bytes);
            }
            case 1:
            {
                int index = random.Next(8);
                bytes[index] ^= (byte)(1 << random.Next(8));
                return ($"size prefix byte {index} flipped", bytes);
            }
            case 2:
            {
                ulong[] sizes = [0, 1, (ulong)headerLength - 1, (ulong)headerLength + 1, (ulong)headerLength + 8, (ulong)(bytes.Length - 8),
                    (ulong)bytes.Length, 100_000_000, 100_000_001, ulong.MaxValue, (ulong)random.NextInt64()];
                var size = sizes[random.Next(sizes.Length)];
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, size);
                return ($"size prefix set to {size}", bytes);
            }
            case 3:
            {
                int length = random.Next(bytes.Length);
                return ($"truncated to {length} bytes", bytes[..length]);
            }
            case 4:
            {
                var extra = new byte[random.Next(1, 65)];
                random.NextBytes(extra);
                return ($"extended by {extra.Length} bytes", [.. bytes, .. extra]);
            }
            case 5:
            {
                int index = dataStart + random.Next(bytes.Length - dataStart);
                bytes[index] ^= (byte)random.Next(1, 256);
                return ($"data byte {index} flipped", bytes);
            }
            default:
                return SpliceHeader(random, original, headerLength);
        }
    }

    /// <summary>Replaces, deletes or duplicates one JSON token of the header and rewrites the size prefix to match.</summary>
    private static (string Mutation, byte[] Bytes) SpliceHeader(Random random, byte[] original, int headerLength)
    {
        // Latin-1 maps bytes to chars one to one, so raw bytes (invalid UTF-8 included) survive the round trip.
        var header = Encoding.Latin1.GetString(original, 8, headerLength);
        var tokens = JsonToken().Matches(header);
        var token = tokens[random.Next(tokens.Count)];
        string replacement, mutation;
        switch (random.Next(3))
        {
            case 0:
                replacement = Tokens[random.Next(Tokens.Length)];
                mutation = $"token '{token.Value}' at {token.Index} replaced by '{replacement}'";
                break;
            case 1:
                replacement = "";
                mutation = $"token '{token.Value}' at {token.Index} deleted";
                break;
            default:
                replacement = token.Value + token.Value;
                mutation = $"token '{token.Value}' at {token.Index} doubled";
                break;
        }
        var spliced = Encoding.Latin1.GetBytes(header[..token.Index] + replacement + header[(token.Index + token.Length)..]);
        var bytes = new byte[8 + spliced.Length + original.Length - 8 - headerLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)spliced.Length);
        spliced.CopyTo(bytes, 8);
        original.AsSpan(8 + headerLength).CopyTo(bytes.AsSpan(8 + spliced.Length));
        return (mutation, bytes);
    }

    [GeneratedRegex("""("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[{}\[\],:]|\s+)""")]
    private static partial Regex JsonToken();
}
