using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.SafeTensors;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.SafeTensors;

public sealed class SafetensorsRoundTripTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_module_saves_its_state_dict_with_floating_tensors_in_the_given_dtype_and_the_pt_format_tag()
    {
        using var scope = NewDisposeScope();
        using var module = new ModuleWithBuffer();
        var path = Path.Combine(_dir, "module.safetensors");
        SafetensorsWriter.SaveModule(module, path, ScalarType.Float16);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        var state = module.state_dict();
        Assert.Equal(state.Keys.Order(), file.Names.Order());
        foreach (var (name, expected) in state)
        {
            var actual = file.Load(name);
            Assert.Equal(expected.is_floating_point() ? ScalarType.Float16 : expected.dtype, actual.dtype);
            Assert.True(actual.to_type(expected.dtype).eq(expected.is_floating_point() ? expected.to_type(ScalarType.Float16).to_type(expected.dtype) : expected).all().item<bool>(), name);
        }
    }

    private sealed class ModuleWithBuffer : nn.Module
    {
        public ModuleWithBuffer() : base(nameof(ModuleWithBuffer))
        {
            register_module("linear", nn.Linear(3, 2));
            register_buffer("position_ids", TensorArithmetic.Arange(4, ScalarType.Int64));
        }
    }

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
            ["i64"] = TensorArithmetic.Arange(7, ScalarType.Int64),
            ["i32"] = TensorArithmetic.Arange(6, ScalarType.Int32).reshape(2, 3),
            ["i16"] = TensorArithmetic.Arange(5, ScalarType.Int16),
            ["i8"] = TensorArithmetic.Arange(-3, 3, dtype: ScalarType.Int8),
            ["u8"] = TensorArithmetic.Arange(250, 256, dtype: ScalarType.Byte),
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
    public void Load_converts_dtype_and_device()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(_dir, "device.safetensors");
        SafetensorsWriter.Save(path, new Dictionary<string, Tensor> { ["ids"] = tensor(new long[] { 3, -1 }) });
        using var file = SafetensorsFile.Open(path);
        var converted = file.Load("ids", ScalarType.Float64, CPU);
        Assert.Equal(ScalarType.Float64, converted.dtype);
        Assert.Equal(TorchSharp.DeviceType.CPU, converted.device_type);
        Assert.Equal(new[] { 3.0, -1.0 }, converted.data<double>().ToArray());
    }

    [Fact]
    public void Writer_orders_tensors_widest_dtype_first_then_by_name_so_each_is_aligned()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(_dir, "order.safetensors");
        SafetensorsWriter.Save(path, new Dictionary<string, Tensor>
        {
            ["u8"] = ones(3, dtype: ScalarType.Byte), ["bool"] = ones(1, dtype: ScalarType.Bool), ["i8"] = ones(1, dtype: ScalarType.Int8),
            ["f16"] = ones(1, dtype: ScalarType.Float16), ["i16"] = ones(1, dtype: ScalarType.Int16), ["bf16"] = ones(1, dtype: ScalarType.BFloat16),
            ["i32"] = ones(1, dtype: ScalarType.Int32), ["f32_b"] = ones(1), ["f32_a"] = ones(1), ["f64"] = ones(1, dtype: ScalarType.Float64),
            ["i64"] = ones(1, dtype: ScalarType.Int64),
        });
        using var file = SafetensorsFile.Open(path);
        // The reference writer's order: I64, F64, F32, I32, BF16, F16, I16, I8, U8, BOOL; names ascending within a dtype.
        Assert.Equal(["i64", "f64", "f32_a", "f32_b", "i32", "bf16", "f16", "i16", "i8", "u8", "bool"], file.Names.ToArray());
        Assert.All(file.Tensors, t => Assert.Equal(0, t.Begin % t.DType.ByteSize()));
    }

    [Fact]
    public void Non_contiguous_tensors_are_written_in_logical_order()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(_dir, "transposed.safetensors");
        var transposed = TensorArithmetic.Arange(6, ScalarType.Int32).reshape(2, 3).t();
        SafetensorsWriter.Save(path, new Dictionary<string, Tensor> { ["t"] = transposed });
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(new[] { 0, 3, 1, 4, 2, 5 }, file.Load("t").data<int>().ToArray());
    }

    [Fact]
    public void Save_replaces_the_target_and_leaves_no_temporary_file()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(_dir, "replace.safetensors");
        SafetensorsWriter.Save(path, new Dictionary<string, Tensor> { ["old"] = ones(100) });
        SafetensorsWriter.Save(path, new Dictionary<string, Tensor> { ["new"] = ones(1) });
        Assert.Equal([path], Directory.GetFiles(_dir));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["new"], file.Names.ToArray());
    }

    [Fact]
    public void Save_rejects_duplicate_and_reserved_names()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(_dir, "bad.safetensors");
        var duplicate = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Save(path, [new("a", ones(1)), new("a", ones(2))]));
        Assert.StartsWith("Tensor name 'a' is given twice.", duplicate.Message);
        var reserved = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Save(path, [new("__metadata__", ones(1))]));
        Assert.StartsWith("'__metadata__' is reserved and cannot name a tensor.", reserved.Message);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Loading_from_a_disposed_file_throws()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(_dir, "disposed.safetensors");
        SafetensorsWriter.Save(path, new Dictionary<string, Tensor> { ["w"] = ones(2) });
        var file = SafetensorsFile.Open(path);
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.Load("w"));
    }

    [Fact]
    public void LoadAll_returns_every_tensor_converted()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(_dir, "all-converted.safetensors");
        SafetensorsWriter.Save(path, new Dictionary<string, Tensor> { ["a"] = ones(2), ["b"] = ones(3, dtype: ScalarType.Float64) });
        var all = SafetensorsFile.LoadAll(path, ScalarType.Float16);
        Assert.Equal(["a", "b"], all.Keys.Order().ToArray());
        Assert.All(all.Values, t => Assert.Equal(ScalarType.Float16, t.dtype));
    }
}
