using System.Text.Json;
using System.Text.Unicode;
using static TorchSharp.torch;

namespace Peft.Typed.Models.SafeTensors;

/// <summary>
/// A checkpoint that is either one <c>.safetensors</c> file or a sharded set described by a
/// <c>*.safetensors.index.json</c> (<c>{"metadata": {...}, "weight_map": {tensor: shard file}}</c>).
/// Opening validates the index against every shard (each shard exists, holds exactly the tensors the
/// weight_map assigns to it); shards are memory-mapped, and each tensor is read once when loaded.
/// </summary>
public sealed class SafetensorsCheckpoint : IDisposable
{
    private readonly Dictionary<string, string> _shardOf;
    private readonly Dictionary<string, SafetensorsFile> _open = new(StringComparer.Ordinal);
    private bool _disposed;

    private SafetensorsCheckpoint(string path, Dictionary<string, string> shardOf, IReadOnlyList<string> names)
    {
        FilePath = path;
        _shardOf = shardOf;
        Names = names;
    }

    /// <summary>The file or index that was opened.</summary>
    public string FilePath { get; }

    /// <summary>Every tensor name in the checkpoint (header order for one file, weight_map order for an index).</summary>
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

        var shardOf = ReadWeightMap(path);
        var checkpoint = new SafetensorsCheckpoint(path, shardOf, shardOf.Keys.ToList());
        try
        {
            foreach (var group in shardOf.GroupBy(entry => entry.Value, entry => entry.Key, StringComparer.Ordinal))
            {
                var shardName = Path.GetFileName(group.Key);
                if (!File.Exists(group.Key))
                    throw new SafetensorsFormatException(path, group.First(), $"shard '{shardName}' listed in weight_map does not exist");
                var shard = checkpoint.Shard(group.Key);
                foreach (var name in group)
                {
                    if (!shard.Contains(name))
                        throw new SafetensorsFormatException(path, name, $"listed in weight_map but missing from shard '{shardName}'");
                }
                foreach (var name in shard.Names)
                {
                    if (!shardOf.TryGetValue(name, out var listed))
                        throw new SafetensorsFormatException(path, name, $"present in shard '{shardName}' but not listed in weight_map");
                    if (listed != group.Key)
                        throw new SafetensorsFormatException(path, name, $"present in shard '{shardName}' but weight_map assigns it to '{Path.GetFileName(listed)}'");
                }
            }
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
        return checkpoint;
    }

    /// <summary>Reads <c>weight_map</c> of an index: tensor name to the full path of its shard.</summary>
    private static Dictionary<string, string> ReadWeightMap(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"safetensors index not found: {path}", path);
        var bytes = File.ReadAllBytes(path);
        if (!Utf8.IsValid(bytes))
            throw new SafetensorsFormatException(path, null, "index is not valid UTF-8");
        using var document = SafetensorsHeader.ParseJson(path, bytes, "index");
        if (document.RootElement.ValueKind != JsonValueKind.Object ||
            !document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            throw new SafetensorsFormatException(path, null, "index has no 'weight_map' object");

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var shardOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in map.EnumerateObject())
        {
            var name = SafetensorsHeader.NameOf(path, null, entry);
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new SafetensorsFormatException(path, name, "weight_map value must be a shard file name");
            var shard = SafetensorsHeader.StringOf(path, name, entry.Value);
            // Shards live beside the index: a path could point anywhere on disk.
            if (shard.Length == 0 || shard is "." or ".." || shard.IndexOfAny(['/', '\\']) >= 0 || shard.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
                throw new SafetensorsFormatException(path, name, $"shard '{shard}' must be a file name beside the index");
            if (!shardOf.TryAdd(name, Path.Combine(directory, shard)))
                throw new SafetensorsFormatException(path, name, "appears twice in weight_map");
        }
        return shardOf;
    }

    public SafetensorsTensorInfo Info(string name) => Shard(ShardOf(name)).Info(name);

    public Tensor Load(string name, ScalarType? dtype = null, Device? device = null) => Shard(ShardOf(name)).Load(name, dtype, device);

    private string ShardOf(string name) =>
        _shardOf.TryGetValue(name, out var shard) ? shard : throw new KeyNotFoundException($"{FilePath}: no tensor '{name}'.");

    private SafetensorsFile Shard(string path)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_open.TryGetValue(path, out var file))
        {
            file = SafetensorsFile.Open(path);
            _open[path] = file;
        }
        return file;
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var file in _open.Values) file.Dispose();
        _open.Clear();
    }
}
