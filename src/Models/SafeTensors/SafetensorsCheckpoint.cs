using System.Text.Json;
using static TorchSharp.torch;

namespace Peft.Typed.Models.SafeTensors;

/// <summary>
/// A checkpoint that is either one <c>.safetensors</c> file or a sharded set described by a
/// <c>*.safetensors.index.json</c> (<c>{"metadata": {...}, "weight_map": {tensor: shard file}}</c>).
/// Shards are opened lazily and memory-mapped; each tensor is read once when loaded.
/// </summary>
public sealed class SafetensorsCheckpoint : IDisposable
{
    private readonly Dictionary<string, string> _shardOf;
    private readonly Dictionary<string, SafetensorsFile> _open = new(StringComparer.Ordinal);

    private SafetensorsCheckpoint(string path, Dictionary<string, string> shardOf, IReadOnlyList<string> names)
    {
        FilePath = path;
        _shardOf = shardOf;
        Names = names;
    }

    /// <summary>The file or index that was opened.</summary>
    public string FilePath { get; }

    /// <summary>Every tensor name in the checkpoint.</summary>
    public IReadOnlyList<string> Names { get; }

    public bool Contains(string name) => _shardOf.ContainsKey(name);

    /// <summary>Opens a single file, or an index whose shards sit beside it.</summary>
    public static SafetensorsCheckpoint Open(string path)
    {
        if (!path.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase))
        {
            var file = SafetensorsFile.Open(path);
            var single = new SafetensorsCheckpoint(path, file.Names.ToDictionary(n => n, _ => path, StringComparer.Ordinal), file.Names.ToList());
            single._open[path] = file;
            return single;
        }

        if (!File.Exists(path)) throw new FileNotFoundException($"safetensors index not found: {path}", path);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var shardOf = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            if (document.RootElement.ValueKind != JsonValueKind.Object ||
                !document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new SafetensorsFormatException(path, null, "index has no 'weight_map' object");
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new SafetensorsFormatException(path, entry.Name, "weight_map value must be a shard file name");
                var shard = entry.Value.GetString()!;
                if (shard.Contains('/') || shard.Contains('\\') || shard is "." or "..")
                    throw new SafetensorsFormatException(path, entry.Name, $"shard '{shard}' must be a file name beside the index");
                if (!shardOf.TryAdd(entry.Name, Path.Combine(directory, shard)))
                    throw new SafetensorsFormatException(path, entry.Name, "appears twice in weight_map");
            }
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException(path, null, $"index is not valid JSON ({e.Message})", e);
        }

        var checkpoint = new SafetensorsCheckpoint(path, shardOf, shardOf.Keys.ToList());
        try
        {
            foreach (var (name, shard) in shardOf)
            {
                if (!checkpoint.Shard(shard).Contains(name))
                    throw new SafetensorsFormatException(path, name, $"listed in weight_map but missing from shard '{Path.GetFileName(shard)}'");
            }
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
        return checkpoint;
    }

    public SafetensorsTensorInfo Info(string name) => Shard(ShardOf(name)).Info(name);

    public Tensor Load(string name, ScalarType? dtype = null, Device? device = null) => Shard(ShardOf(name)).Load(name, dtype, device);

    private string ShardOf(string name) =>
        _shardOf.TryGetValue(name, out var shard) ? shard : throw new KeyNotFoundException($"{FilePath}: no tensor '{name}'.");

    private SafetensorsFile Shard(string path)
    {
        if (!_open.TryGetValue(path, out var file))
        {
            file = SafetensorsFile.Open(path);
            _open[path] = file;
        }
        return file;
    }

    public void Dispose()
    {
        foreach (var file in _open.Values) file.Dispose();
        _open.Clear();
    }
}
