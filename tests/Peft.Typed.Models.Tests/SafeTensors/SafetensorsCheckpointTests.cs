using Peft.Typed.Models.SafeTensors;
using static Peft.Typed.Models.Tests.SafeTensors.RawSafetensors;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.SafeTensors;

public sealed class SafetensorsCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-st-shards-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Index(string json) => Write(_dir, "model.safetensors.index.json", System.Text.Encoding.UTF8.GetBytes(json));

    /// <summary>Two shards: a (F32 [2]) and b (I64 [3]) in the first, c (U8 [2, 2]) in the second.</summary>
    private void WriteShards()
    {
        using var scope = NewDisposeScope();
        SafetensorsWriter.Save(Path.Combine(_dir, "model-00001-of-00002.safetensors"), new Dictionary<string, Tensor>
        {
            ["a"] = tensor(new[] { 1.5f, -2f }),
            ["b"] = tensor(new long[] { 7, 8, 9 }),
        }, new Dictionary<string, string> { ["format"] = "pt" });
        SafetensorsWriter.Save(Path.Combine(_dir, "model-00002-of-00002.safetensors"), new Dictionary<string, Tensor>
        {
            ["c"] = tensor(new byte[] { 1, 2, 3, 4 }).reshape(2, 2),
        }, new Dictionary<string, string> { ["format"] = "pt" });
    }

    private const string TwoShardIndex = """
        {"metadata": {"total_size": 36},
         "weight_map": {"a": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors", "b": "model-00001-of-00002.safetensors"}}
        """;

    [Fact]
    public void Sharded_checkpoint_loads_every_tensor_from_its_shard()
    {
        WriteShards();
        using var scope = NewDisposeScope();
        using var checkpoint = SafetensorsCheckpoint.Open(Index(TwoShardIndex));
        Assert.Equal(new[] { "a", "c", "b" }, checkpoint.Names);
        Assert.True(checkpoint.Contains("c"));
        Assert.False(checkpoint.Contains("d"));
        Assert.Equal(new[] { 1.5f, -2f }, checkpoint.Load("a").data<float>().ToArray());
        Assert.Equal(new long[] { 7, 8, 9 }, checkpoint.Load("b").data<long>().ToArray());
        var c = checkpoint.Load("c", ScalarType.Float32);
        Assert.Equal(new long[] { 2, 2 }, c.shape);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f }, c.data<float>().ToArray());
        Assert.Equal(SafetensorsDType.U8, checkpoint.Info("c").DType);
        var error = Assert.Throws<KeyNotFoundException>(() => checkpoint.Load("d"));
        Assert.Equal($"{checkpoint.FilePath}: no tensor 'd'.", error.Message);
    }

    [Fact]
    public void Single_file_checkpoint()
    {
        WriteShards();
        using var scope = NewDisposeScope();
        using var checkpoint = SafetensorsCheckpoint.Open(Path.Combine(_dir, "model-00001-of-00002.safetensors"));
        Assert.Equal(new[] { "b", "a" }, checkpoint.Names); // I64 before F32, as written
        Assert.Equal(new long[] { 7, 8, 9 }, checkpoint.Load("b").data<long>().ToArray());
    }

    [Fact]
    public void Missing_shard_file()
    {
        WriteShards();
        File.Delete(Path.Combine(_dir, "model-00002-of-00002.safetensors"));
        var index = Index(TwoShardIndex);
        AssertFormatError(index, "c", "shard 'model-00002-of-00002.safetensors' listed in weight_map does not exist", () => SafetensorsCheckpoint.Open(index));
    }

    [Fact]
    public void Tensor_listed_in_weight_map_but_missing_from_its_shard()
    {
        WriteShards();
        var index = Index("""{"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors", "d": "model-00002-of-00002.safetensors"}}""");
        AssertFormatError(index, "d", "listed in weight_map but missing from shard 'model-00002-of-00002.safetensors'", () => SafetensorsCheckpoint.Open(index));
    }

    [Fact]
    public void Tensor_in_a_shard_but_not_in_weight_map()
    {
        WriteShards();
        var index = Index("""{"weight_map": {"a": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors"}}""");
        AssertFormatError(index, "b", "present in shard 'model-00001-of-00002.safetensors' but not listed in weight_map", () => SafetensorsCheckpoint.Open(index));
    }

    [Fact]
    public void Tensor_assigned_to_the_wrong_shard()
    {
        WriteShards();
        SafetensorsWriter.Save(Path.Combine(_dir, "model-00002-of-00002.safetensors"), new Dictionary<string, Tensor> { ["a"] = zeros(2), ["c"] = zeros(1) });
        var index = Index(TwoShardIndex);
        AssertFormatError(index, "a", "present in shard 'model-00002-of-00002.safetensors' but weight_map assigns it to 'model-00001-of-00002.safetensors'", () => SafetensorsCheckpoint.Open(index));
    }

    [Fact]
    public void Malformed_shard_names_the_shard_file()
    {
        WriteShards();
        var shard = Write(_dir, "model-00002-of-00002.safetensors", Bytes("""{"c":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}""", 3));
        var index = Index(TwoShardIndex);
        AssertFormatError(shard, "c", "data_offsets [0, 4] run past the data section (3 bytes)", () => SafetensorsCheckpoint.Open(index));
    }

    [Theory]
    [InlineData("""{"weight_map": []}""", null, "index has no 'weight_map' object")]
    [InlineData("""{"metadata": {}}""", null, "index has no 'weight_map' object")]
    [InlineData("""[]""", null, "index has no 'weight_map' object")]
    [InlineData("""{"weight_map": {"a": 1}}""", "a", "weight_map value must be a shard file name")]
    [InlineData("""{"weight_map": {"a": "../model.safetensors"}}""", "a", "shard '../model.safetensors' must be a file name beside the index")]
    [InlineData("""{"weight_map": {"a": "/etc/model.safetensors"}}""", "a", "shard '/etc/model.safetensors' must be a file name beside the index")]
    [InlineData("""{"weight_map": {"a": ""}}""", "a", "shard '' must be a file name beside the index")]
    [InlineData("""{"weight_map": {"a": ".."}}""", "a", "shard '..' must be a file name beside the index")]
    [InlineData("""{"weight_map": {"a": "x.safetensors", "a": "y.safetensors"}}""", "a", "appears twice in weight_map")]
    [InlineData("""{"weight_map": {"a": "x\ud800.safetensors"}}""", "a", "a JSON string holds an unpaired UTF-16 surrogate escape")]
    [InlineData("""{"weight_map": {"a": "x.safetensors",}}""", null, "index is not valid JSON (line 1, byte 38)")]
    public void Malformed_index(string json, string? tensor, string problem)
    {
        var index = Index(json);
        AssertFormatError(index, tensor, problem, () => SafetensorsCheckpoint.Open(index));
    }

    [Fact]
    public void Index_not_UTF8()
    {
        var index = Write(_dir, "bad.safetensors.index.json", [(byte)'{', 0xFF, (byte)'}']);
        AssertFormatError(index, null, "index is not valid UTF-8", () => SafetensorsCheckpoint.Open(index));
    }

    [Fact]
    public void Missing_index_is_an_IO_error()
    {
        var path = Path.Combine(_dir, "absent.safetensors.index.json");
        Assert.Equal(path, Assert.Throws<FileNotFoundException>(() => SafetensorsCheckpoint.Open(path)).FileName);
    }

    [Fact]
    public void Disposed_checkpoint_refuses_to_load()
    {
        WriteShards();
        var checkpoint = SafetensorsCheckpoint.Open(Index(TwoShardIndex));
        checkpoint.Dispose();
        Assert.Throws<ObjectDisposedException>(() => checkpoint.Load("a"));
    }
}
