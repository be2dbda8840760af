using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters.Formats.Kinds;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Formats.Kohya;

/// <summary>
/// The kohya-ss file A1111, ComfyUI and diffusers load: per module <c>&lt;kohya name&gt;.lora_down.weight</c>,
/// <c>.lora_up.weight</c> and <c>.alpha</c> (scale = alpha / rank, rank = lora_down.shape[0]); LyCORIS LoHa and LoKr
/// keep their tensor names (<c>.hada_w1_a</c>, <c>.lokr_w1</c>, ...). Names: <see cref="KohyaModuleNames"/>. Writing
/// carries each module's alpha (PEFT's scaling × rank) as an F32 scalar; reading gives a config whose
/// rank_pattern/alpha_pattern reproduce every module's rank and alpha.
/// </summary>
internal sealed class KohyaFileFormat : IAdapterFileFormat
{
    public AdapterFileFormat Format => AdapterFileFormat.Kohya;

    public bool Claims(string key) => Parse(key) is not null;

    public IReadOnlyDictionary<string, AdapterState> Read(string path, IReadOnlyDictionary<string, ModuleCatalog> components) =>
        FormatChecks.WithTensors(path, tensors => ReadTensors(path, tensors, components), result => result.Values.SelectMany(s => s.Tensors.Values));

    private static Dictionary<string, AdapterState> ReadTensors(string path, Dictionary<string, Tensor> tensors, IReadOnlyDictionary<string, ModuleCatalog> components)
    {
        // AdapterFiles.Read has detected the format: every key parses.
        var result = new Dictionary<string, AdapterState>(StringComparer.Ordinal);
        var parsed = tensors.Keys.Order(StringComparer.Ordinal).Select(k => (Key: k, Parts: Parse(k)!.Value)).ToList();
        foreach (var component in parsed.GroupBy(p => p.Parts.Component))
        {
            var keys = component.Select(p => p.Key).ToList();
            var catalog = FormatChecks.CatalogOf(path, components, component.Key, keys);
            var names = new KohyaModuleNames(component.Key, catalog);
            var kinds = component.Where(p => p.Parts.Tensor != "alpha").Select(p => AdapterKindKeys.OfKohyaTensor(p.Parts.Tensor)!).Distinct().ToList();
            if (kinds.Count != 1)
                throw new AdapterFormatException(path,
                    kinds.Count == 0
                        ? $"{component.Key}: the file holds only .alpha keys and no adapter tensors: {AdapterFormatException.First(keys)}."
                        : $"{component.Key}: the file mixes adapter kinds ({string.Join(", ", kinds.Select(k => k.Type))}), which one PEFT model cannot hold.",
                    keys);
            var kind = kinds[0];

            var byName = component.GroupBy(p => p.Parts.Name).ToList();
            var missing = byName.Where(g => names.ModuleOf(g.Key) is null)
                .Select(g => (Key: g.First().Key, Module: g.Key, Closest: names.Closest(g.Key))).ToList();
            if (missing.Count > 0) throw FormatChecks.MissingModules(path, component.Key, catalog, missing);
            var twice = byName.GroupBy(g => names.ModuleOf(g.Key)!).Where(g => g.Count() > 1).ToList();
            if (twice.Count > 0)
                throw new AdapterFormatException(path,
                    $"{component.Key}: module '{twice[0].Key}' appears under {twice[0].Count()} names: {string.Join(", ", twice[0].Select(g => $"'{g.Key}'"))}.",
                    twice.SelectMany(t => t.Select(g => g.Key)).ToList());

            var withAlpha = byName.Where(g => g.Any(p => p.Parts.Tensor == "alpha")).Select(g => g.Key).ToList();
            var withoutAlpha = byName.Where(g => g.All(p => p.Parts.Tensor != "alpha")).Select(g => g.Key).ToList();
            if (withAlpha.Count > 0 && withoutAlpha.Count > 0)
                throw new AdapterFormatException(path,
                    $"{component.Key}: {withoutAlpha.Count} module(s) have no .alpha while {withAlpha.Count} have one: {AdapterFormatException.First(withoutAlpha.Select(n => n + ".alpha").ToList())} missing (a file without any .alpha loads at scale 1; one with some is incomplete).",
                    withoutAlpha);

            var modules = new List<ModuleAdapter>();
            foreach (var group in byName)
            {
                var byTensor = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                double? alpha = null;
                foreach (var (key, parts) in group)
                {
                    if (parts.Tensor == "alpha") alpha = FormatChecks.AlphaValue(path, key, tensors[key]);
                    else if (kind.PeftTensorName(parts.Tensor) is { } peftName) byTensor[peftName] = tensors[key];
                }
                var required = kind.RequiredTensorNames(byTensor.Keys);
                var absent = required.Where(r => !byTensor.ContainsKey(r)).ToList();
                var extra = byTensor.Keys.Where(t => !required.Contains(t)).ToList();
                if (absent.Count > 0 || extra.Count > 0)
                {
                    var have = string.Join(", ", byTensor.Keys.Order(StringComparer.Ordinal).Select(kind.KohyaTensorName));
                    var problem = absent.Count > 0
                        ? $"has {have} but no {string.Join(", ", absent.Select(kind.KohyaTensorName))}"
                        : $"has {have}: {string.Join(", ", extra.Select(kind.KohyaTensorName))} cannot go with the rest";
                    throw new AdapterFormatException(path, $"'{group.Key}' {problem}.", [group.Key]);
                }
                modules.Add(new ModuleAdapter(names.ModuleOf(group.Key)!, byTensor, alpha, group.Key));
            }
            result[component.Key] = FormatChecks.ToState(path, kind, modules);
        }
        return result;
    }

    public void Write(string path, IReadOnlyDictionary<string, AdapterState> components)
    {
        using var scope = NewDisposeScope();
        var output = new List<KeyValuePair<string, Tensor>>();
        foreach (var (component, state) in components)
        {
            string prefix;
            try
            {
                prefix = KohyaModuleNames.PrefixOf(component);
            }
            catch (ArgumentException e)
            {
                throw new AdapterFormatException(path, e.Message, null, e);
            }
            foreach (var (module, tensors) in FormatChecks.ModulesOf(path, component, state, Format))
            {
                var kind = AdapterKindKeys.Of(state.Config.PeftType)!;
                var name = KohyaModuleNames.NameOf(prefix, module);
                var (kohyaTensors, alpha) = kind.ForKohya(state.Config, module, tensors);
                foreach (var (tensorName, tensor) in kohyaTensors) output.Add(new($"{name}.{kind.KohyaTensorName(tensorName)}", tensor.detach()));
                output.Add(new($"{name}.alpha", tensor((float)alpha, ScalarType.Float32)));
            }
        }
        FormatChecks.Save(path, output);
    }

    /// <summary>(component, kohya module name, tensor name after the first dot) of a key, or null when it is not a kohya/LyCORIS adapter key.</summary>
    private static (string Component, string Name, string Tensor)? Parse(string key)
    {
        int dot = key.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0) return null;
        var name = key.Substring(0, dot);
        var tensor = key.Substring(dot + 1);
        if (KohyaModuleNames.ComponentOf(name) is not { } component) return null;
        if (tensor != "alpha" && AdapterKindKeys.OfKohyaTensor(tensor) is null) return null;
        return (component, name, tensor);
    }
}
