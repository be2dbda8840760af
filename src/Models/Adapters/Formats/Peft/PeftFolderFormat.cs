using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.SafeTensors;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Formats.Peft;

/// <summary>
/// PEFT's own files: a folder with adapter_config.json + adapter_model.safetensors (keys
/// <c>base_model.model.&lt;module&gt;.…</c>), or a folder holding one such folder per component (<c>unet/</c>,
/// <c>text_encoder/</c>, <c>text_encoder_2/</c>) as the trainer writes them.
/// </summary>
internal sealed class PeftFolderFormat : IAdapterFileFormat
{
    public AdapterFileFormat Format => AdapterFileFormat.Peft;

    public bool Claims(string key) => key.StartsWith(PeftModel.KeyPrefix, StringComparison.Ordinal);

    /// <summary>True when <paramref name="folder"/> is one adapter folder.</summary>
    public static bool IsAdapterFolder(string folder) => File.Exists(Path.Combine(folder, AdapterConfig.FileName));

    /// <summary>The component folders of a trainer output folder (sub-folders that are adapter folders).</summary>
    public static IReadOnlyList<string> ComponentFolders(string folder) =>
        Directory.Exists(folder) ? Directory.GetDirectories(folder).Where(IsAdapterFolder).Order(StringComparer.Ordinal).ToList() : [];

    public IReadOnlyDictionary<string, AdapterState> Read(string path, IReadOnlyDictionary<string, ModuleCatalog> components)
    {
        var result = new Dictionary<string, AdapterState>(StringComparer.Ordinal);
        try
        {
            if (IsAdapterFolder(path))
            {
                var component = ComponentOf(path, components);
                result[component] = ReadFolder(path, component, components[component]);
                return result;
            }
            foreach (var folder in ComponentFolders(path))
            {
                var component = Path.GetFileName(folder);
                var catalog = FormatChecks.CatalogOf(folder, components, component, []);
                result[component] = ReadFolder(folder, component, catalog);
            }
            return result;
        }
        catch
        {
            foreach (var tensor in result.Values.SelectMany(s => s.Tensors.Values)) tensor.Dispose();
            throw;
        }
    }

    public void Write(string path, IReadOnlyDictionary<string, AdapterState> components)
    {
        foreach (var (component, state) in components)
        {
            var folder = Path.Combine(path, component);
            FormatChecks.Save(Path.Combine(folder, PeftModel.WeightsFileName), state.Tensors.Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value.detach())));
            (state.Config with { InferenceMode = true }).Save(folder);
        }
    }

    /// <summary>The component of a single adapter folder: its folder name when that is a component, else the only one given.</summary>
    private static string ComponentOf(string folder, IReadOnlyDictionary<string, ModuleCatalog> components)
    {
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
        if (components.ContainsKey(name)) return name;
        if (components.Count == 1) return components.Keys.First();
        throw new AdapterFormatException(folder,
            $"cannot tell which model this adapter folder is for: its name is none of {string.Join(", ", components.Keys.Select(k => $"'{k}'"))}; name the folder after its component or give one model.");
    }

    private static AdapterState ReadFolder(string folder, string component, ModuleCatalog catalog)
    {
        var weights = Path.Combine(folder, PeftModel.WeightsFileName);
        if (!File.Exists(weights)) throw new AdapterFormatException(folder, $"the adapter folder has {AdapterConfig.FileName} but no {PeftModel.WeightsFileName}.");
        var config = AdapterConfig.Load(folder) with { InferenceMode = true };
        return FormatChecks.WithTensors(weights, tensors =>
        {
            var foreign = tensors.Keys.Where(k => !k.StartsWith(PeftModel.KeyPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
            if (foreign.Count > 0)
                throw new AdapterFormatException(weights, $"{foreign.Count} key(s) do not start with '{PeftModel.KeyPrefix}' as PEFT's do: {AdapterFormatException.First(foreign)}.", foreign);
            FormatChecks.CheckModules(weights, component, catalog,
                tensors.Keys.Order(StringComparer.Ordinal).Select(k => (Module: AdapterState.ModuleOf(k), Key: k)).Where(m => m.Module is not null).Select(m => (m.Module!, m.Key)));
            return new AdapterState(config, tensors);
        }, state => state.Tensors.Values);
    }
}
