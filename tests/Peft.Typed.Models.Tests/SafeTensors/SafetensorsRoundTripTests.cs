using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.SafeTensors;

public sealed class SafetensorsRoundTripTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Every_dtype_round_trips_with_metadata()
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["f32"] = randn(3, 5),
            ["f64"] = randn(2, 2, dtype: ScalarType.Float64),
            ["f16"] = randn(4, dtype: ScalarType.Float16),
            ["bf16"] = randn(2, 3, dtype: ScalarType.BFloat16),
            ["i64"] = arange(7, dtype: ScalarType.Int64),
            ["i32"] = arange(6, dtype: ScalarType.Int32).reshape(2, 3),
            ["i16"] = arange(5, dtype: ScalarType.Int16),
            ["i8"] = arange(-3, 3, dtype: ScalarType.Int8),
            ["u8"] = arange(250, 256, dtype: ScalarType.Byte),
            ["bool"] = tensor(new[] { true, false, true }),
            ["scalar"] = tensor(3.5f),
            ["empty"] = zeros(0, 4),
        };
        var path = Path.Combine(_dir, "all.safetensors");
        SafetensorsWriter.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });

        using var file = SafetensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(tensors.Keys.Order(), file.Names.Order());
        foreach (var (name, expected) in tensors)
        {
            var actual = file.Load(name);
            Assert.Equal(expected.dtype, actual.dtype);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(expected.eq(actual).all().item<bool>(), name);
        }
    }

    [Fact]
    public void Written_header_is_padded_to_eight_bytes_and_data_is_contiguous()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(_dir, "layout.safetensors");
        SafetensorsWriter.Save(path, new Dictionary<string, Tensor> { ["a"] = ones(3), ["b"] = ones(1, dtype: ScalarType.Int8) });
        var bytes = File.ReadAllBytes(path);
        long headerSize = BitConverter.ToInt64(bytes, 0);
        Assert.Equal(0, headerSize % 8);
        Assert.Equal(8 + headerSize + 12 + 1, bytes.Length);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal((0L, 12L), (file.Info("a").Begin, file.Info("a").End));
        Assert.Equal((12L, 13L), (file.Info("b").Begin, file.Info("b").End));
    }

    [Fact]
    public void Load_converts_dtype()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(_dir, "convert.safetensors");
        SafetensorsWriter.Save(path, new Dictionary<string, Tensor> { ["w"] = tensor(new float[] { 1.5f, -2f }) });
        using var file = SafetensorsFile.Open(path);
        var half = file.Load("w", ScalarType.Float16);
        Assert.Equal(ScalarType.Float16, half.dtype);
        Assert.Equal(new[] { 1.5f, -2f }, half.to_type(ScalarType.Float32).data<float>().ToArray());
    }

    [Fact]
    public void Unet_tiny_weights_match_parameters_json()
    {
        using var scope = NewDisposeScope();
        using var file = SafetensorsFile.Open(Fixtures.PathOf("unet-tiny", "diffusion_pytorch_model.safetensors"));
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Fixtures.PathOf("unet-tiny", "parameters.json")));
        var expected = json.RootElement.EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray());
        Assert.Equal(304, file.Tensors.Count);
        Assert.Equal(expected.Keys.Order(), file.Names.Order());
        foreach (var info in file.Tensors)
        {
            Assert.Equal(SafetensorsDType.F32, info.DType);
            Assert.Equal(expected[info.Name], info.Shape);
        }
        Assert.Equal("pt", file.Metadata["format"]);
    }
}
