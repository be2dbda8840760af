using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters.Formats.Kinds;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.SafeTensors;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Formats;

/// <summary>The checks and conversions every format shares: module names against the model, per-module tensors into an <see cref="AdapterState"/>.</summary>
internal static class FormatChecks
{
    /// <summary>The catalog of <paramref name="component"/>, or an error naming the components given.</summary>
    public static ModuleCatalog CatalogOf(string path, IReadOnlyDictionary<string, ModuleCatalog> components, string component, IReadOnlyList<string> keys) =>
        components.TryGetValue(component, out var catalog)
            ? catalog
            : throw new AdapterFormatException(path,
                $"the file holds an adapter for '{component}' but no model was given for it (given: {string.Join(", ", components.Keys.Select(k => $"'{k}'"))}); first keys: {AdapterFormatException.First(keys)}.",
                keys);

    /// <summary>Throws when a module is not an adaptable (Linear/Conv2d) module of the catalog, naming the closest real ones.</summary>
    public static void CheckModules(string path, string component, ModuleCatalog catalog, IEnumerable<(string Module, string Key)> modules)
    {
        var adaptable = catalog.Modules.Where(m => m.Name.Length > 0 && ModuleCatalog.IsAdaptableKind(m.Kind)).Select(m => m.Name).ToList();
        var known = new HashSet<string>(adaptable, StringComparer.Ordinal);
        var missing = modules.Where(m => !known.Contains(m.Module)).ToList();
        if (missing.Count == 0) return;
        throw MissingModules(path, component, catalog, missing.Select(m => (m.Key, m.Module, ClosestName.Find(m.Module, adaptable))).ToList());
    }

    /// <summary>"N key(s) name modules that unet does not have: 'key' (module 'x'; closest 'y'), ...".</summary>
    public static AdapterFormatException MissingModules(string path, string component, ModuleCatalog catalog, IReadOnlyList<(string Key, string Module, string? Closest)> missing)
    {
        var model = catalog.ModelName == component ? component : $"{component} ({catalog.ModelName})";
        var shown = string.Join(", ", missing.Take(3).Select(m => $"'{m.Key}' (closest: '{m.Closest}')"));
        return new AdapterFormatException(path,
            $"{missing.Count} key(s) name modules that {model} does not have: {shown}{(missing.Count > 3 ? ", ..." : "")}. Nothing was loaded.",
            missing.Select(m => m.Key).ToList());
    }

    /// <summary>
    /// The PEFT state of one component from its modules' tensors: ranks from the tensors (checked), alphas as the
    /// kohya loaders apply them (<see cref="AdapterKindKeys.KohyaScale"/> × rank), and a config with rank/alpha patterns.
    /// </summary>
    public static AdapterState ToState(string path, AdapterKindKeys kind, IReadOnlyList<ModuleAdapter> modules)
    {
        var specs = new List<(ModuleAdapter, int, double)>();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var module in modules)
        {
            int rank = kind.RankOf(module, path);
            specs.Add((module, rank, kind.KohyaScale(module, rank) * rank));
            foreach (var (name, tensor) in module.Tensors) tensors[$"{PeftModel.KeyPrefix}{module.Module}.{name}"] = tensor;
        }
        return new AdapterState(kind.BuildConfig(specs), tensors);
    }

    /// <summary>Groups a component's PEFT tensors by module; keys that are no adapter tensor of the config's kind are an error.</summary>
    public static List<(string Module, Dictionary<string, Tensor> Tensors)> ModulesOf(string path, string component, AdapterState state, AdapterFileFormat format)
    {
        var kind = AdapterKindKeys.Of(state.Config.PeftType)
            ?? throw new AdapterFormatException(path, $"{component}: the {format} format holds no {state.Config.PeftType} adapters; save a PEFT folder instead.");
        if (state.Config.ModulesToSave is { Count: > 0 })
            throw new AdapterFormatException(path, $"{component}: the {format} format holds no modules_to_save ({string.Join(", ", state.Config.ModulesToSave)}); save a PEFT folder instead.");
        if (state.Config.NotInSingleFileFormats is { } missing)
            throw new AdapterFormatException(path, $"{component}: the {format} format holds no {missing}; save a PEFT folder instead.");
        var modules = new List<(string, Dictionary<string, Tensor>)>();
        var index = new Dictionary<string, Dictionary<string, Tensor>>(StringComparer.Ordinal);
        var stray = new List<string>();
        foreach (var (key, tensor) in state.Tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (AdapterState.Split(key) is not { } split || split.Kind != kind)
            {
                stray.Add(key);
                continue;
            }
            if (!index.TryGetValue(split.Module, out var tensors))
            {
                tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                index.Add(split.Module, tensors);
                modules.Add((split.Module, tensors));
            }
            tensors[split.Tensor] = tensor;
        }
        if (stray.Count > 0)
            throw new AdapterFormatException(path, $"{component}: {stray.Count} tensor(s) are not {kind.Type} adapter tensors the {format} format can hold: {AdapterFormatException.First(stray)}.", stray);
        return modules;
    }

    /// <summary>The value of a one-element alpha tensor (0-dim F32/F16/BF16/I64, as kohya and diffusers write it).</summary>
    public static double AlphaValue(string path, string key, Tensor alpha)
    {
        if (alpha.numel() != 1 || alpha.dtype == ScalarType.Bool)
            throw new AdapterFormatException(path, $"'{key}' must be one number (a 0-dim tensor), found {alpha.dtype} {AdapterKindKeys.Shape(alpha)}.", [key]);
        using var value = alpha.to_type(ScalarType.Float64);
        return value.reshape(1).data<double>()[0];
    }

    /// <summary>Every tensor of a safetensors file, disposed again if <paramref name="read"/> throws.</summary>
    public static T WithTensors<T>(string path, Func<Dictionary<string, Tensor>, T> read, Func<T, IEnumerable<Tensor>> kept)
    {
        var tensors = SafetensorsFile.LoadAll(path);
        try
        {
            var result = read(tensors);
            var keep = new HashSet<Tensor>(kept(result), ReferenceEqualityComparer.Instance);
            foreach (var tensor in tensors.Values.Where(t => !keep.Contains(t))) tensor.Dispose();
            return result;
        }
        catch
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
            throw;
        }
    }

    /// <summary>Writes a single safetensors file (atomically, as <see cref="SafetensorsWriter"/> does) with PEFT's <c>{"format": "pt"}</c>.</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        SafetensorsWriter.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }
}
