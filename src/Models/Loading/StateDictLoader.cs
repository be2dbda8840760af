using Peft.Typed.Models.SafeTensors;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Loading;

/// <summary>
/// Copies safetensors checkpoints into a module whose state-dict names are the checkpoint keys. Every name is checked
/// before anything is copied, so a strict load either loads everything or throws one <see cref="CheckpointMismatchException"/>.
/// Tensors are converted to each parameter's dtype and device while copying (an fp16 file loads into an fp32 model).
/// </summary>
public static class StateDictLoader
{
    /// <param name="module">The model; its <c>state_dict()</c> names are the expected keys.</param>
    /// <param name="checkpoint">A single file or a sharded set.</param>
    /// <param name="strict">Throw on any missing, unexpected or mis-shaped tensor; otherwise load what matches and report the rest.</param>
    /// <param name="prefix">Use only checkpoint keys under this prefix (e.g. <c>"encoder."</c>), with the prefix removed.</param>
    /// <param name="mapKey">Maps a checkpoint key to the model's name for it (legacy names), or to null to ignore the tensor.</param>
    public static LoadReport Load(nn.Module module, SafetensorsCheckpoint checkpoint, bool strict = true, string prefix = "", Func<string, string?>? mapKey = null)
    {
        var expected = module.state_dict();
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        var found = new HashSet<string>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        var mismatched = new List<ShapeMismatch>();
        foreach (var name in checkpoint.Names)
        {
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var key = mapKey is null ? name[prefix.Length..] : mapKey(name[prefix.Length..]);
            if (key is null) continue;
            if (!expected.TryGetValue(key, out var target) || !found.Add(key))
            {
                unexpected.Add(name);
                continue;
            }
            var shape = checkpoint.Info(name).Shape;
            if (!shape.SequenceEqual(target.shape)) mismatched.Add(new ShapeMismatch(name, shape, target.shape));
            else sources[key] = name;
        }
        var missing = expected.Keys.Where(k => !found.Contains(k)).ToList();
        var report = new LoadReport(checkpoint.FilePath, sources.Keys.ToList(), missing, unexpected, mismatched);
        if (strict && !report.IsExact) throw new CheckpointMismatchException(report);

        using var noGrad = no_grad();
        foreach (var (key, name) in sources)
        {
            using var loaded = checkpoint.Load(name);
            expected[key].copy_(loaded);
        }
        return report;
    }

    /// <summary>Opens <paramref name="path"/> (a .safetensors file or a .safetensors.index.json) and loads it.</summary>
    public static LoadReport Load(nn.Module module, string path, bool strict = true, string prefix = "", Func<string, string?>? mapKey = null)
    {
        using var checkpoint = SafetensorsCheckpoint.Open(path);
        return Load(module, checkpoint, strict, prefix, mapKey);
    }
}
