using System.Globalization;
using System.Text.Json.Nodes;
using Peft.Typed.Architecture.Settings;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.SafeTensors;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters;

/// <summary>
/// PEFT's <c>PeftModel</c> for any TorchSharp module tree: wraps the targeted Linear/Conv2d layers in place
/// (<see cref="AdapterLayer"/>), freezes everything else, and manages named adapters (set, disable, delete, merge,
/// unload) and their files in PEFT's format. The model keeps its own forward: call it as before.
/// <para>
/// A layer can be wrapped when its parent calls it through a field typed <c>Module&lt;Tensor, Tensor&gt;</c>, a
/// <c>ModuleList&lt;Module&lt;Tensor, Tensor&gt;&gt;</c> or a <c>Sequential</c>; a field typed <c>Linear</c> is reported.
/// </para>
/// </summary>
public sealed class PeftModel
{
    /// <summary>The adapter name PEFT uses when none is given; its files go straight into the save folder.</summary>
    public const string DefaultAdapterName = "default";

    /// <summary>The weights file <c>save_pretrained</c> writes.</summary>
    public const string WeightsFileName = "adapter_model.safetensors";

    /// <summary>Every saved key starts with this (PeftModel → LoraModel → the user's model).</summary>
    public const string KeyPrefix = "base_model.model.";

    private readonly List<string> _adapterNames = [];
    private readonly Dictionary<string, AdapterConfig> _configs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<string>> _targeted = new(StringComparer.Ordinal);
    private bool _unloaded;

    private PeftModel(nn.Module model) => Model = model;

    /// <summary>The adapted model (the caller's object, modified in place).</summary>
    public nn.Module Model { get; }

    /// <summary>Adapter names in the order they were added.</summary>
    public IReadOnlyList<string> AdapterNames => _adapterNames;

    /// <summary>PEFT's <c>peft_config</c>: the config of every adapter.</summary>
    public IReadOnlyDictionary<string, AdapterConfig> PeftConfig => _configs;

    /// <summary>The adapter that runs (null once the last adapter is deleted).</summary>
    public string? ActiveAdapter { get; private set; }

    /// <summary>True inside a <see cref="DisableAdapter"/> scope.</summary>
    public bool AdaptersDisabled { get; private set; }

    /// <summary>PEFT's <c>get_peft_model</c>: adapts <paramref name="model"/> with <paramref name="config"/> as the active adapter.</summary>
    public static PeftModel Create(nn.Module model, AdapterConfig config, string adapterName = DefaultAdapterName)
    {
        var peft = new PeftModel(model ?? throw new ArgumentNullException(nameof(model)));
        peft.Inject(config, adapterName);
        peft.ActiveAdapter = adapterName;
        peft.ApplyTrainability();
        return peft;
    }

    /// <summary>
    /// PEFT's <c>PeftModel.from_pretrained</c>: reads adapter_config.json and adapter_model.safetensors from
    /// <paramref name="directory"/>. Unless <paramref name="isTrainable"/>, the adapter is frozen and the model put in eval mode.
    /// </summary>
    public static PeftModel FromPretrained(nn.Module model, string directory, string adapterName = DefaultAdapterName, bool isTrainable = false)
    {
        var peft = new PeftModel(model ?? throw new ArgumentNullException(nameof(model)));
        peft.LoadAdapter(directory, adapterName, isTrainable);
        return peft;
    }

    /// <summary>The modules of <paramref name="model"/> with the class targeting sees, as <see cref="AdapterConfig.SelectTargets"/> takes them.</summary>
    public static IReadOnlyList<ModuleEntry> ListModules(nn.Module model) =>
        ModuleSurgery.Modules(model).Select(m => new ModuleEntry(m.Name, ModuleKinds.Of(m.Module))).ToList();

    /// <summary>The modules adapter <paramref name="adapterName"/> wraps (default: the active one), in model order.</summary>
    public IReadOnlyList<string> TargetedModuleNames(string? adapterName = null) => _targeted[CheckAdapter(adapterName ?? ActiveAdapter)];

    /// <summary>Every adapter layer of the model, by qualified module name.</summary>
    public IReadOnlyList<AdapterLayer> AdapterLayers() =>
        ModuleSurgery.Modules(Model).Select(m => m.Module).OfType<AdapterLayer>().ToList();

    /// <summary>The adapter layer that replaced <paramref name="moduleName"/>.</summary>
    public AdapterLayer GetAdapterLayer(string moduleName) =>
        ModuleSurgery.Find(Model, moduleName) as AdapterLayer
        ?? throw new KeyNotFoundException($"Module '{moduleName}' is not adapted; adapted modules: {string.Join(", ", AdapterLayers().Select(l => l.ModuleName))}.");

    /// <summary>PEFT's <c>add_adapter</c>: adds another adapter of the same kind; it is frozen and inactive until <see cref="SetAdapter"/>.</summary>
    public void AddAdapter(string adapterName, AdapterConfig config)
    {
        CheckUsable();
        Inject(config, adapterName);
        ApplyTrainability();
    }

    /// <summary>
    /// PEFT's <c>load_adapter</c>: adds the adapter saved in <paramref name="directory"/> under <paramref name="adapterName"/>.
    /// The first adapter loaded becomes active. A file that does not fit the model leaves the model as it was.
    /// </summary>
    public void LoadAdapter(string directory, string adapterName, bool isTrainable = false)
    {
        CheckUsable();
        var weightsPath = Path.Combine(directory, WeightsFileName);
        var config = AdapterConfig.Load(Path.Combine(directory, AdapterConfig.FileName)) with { InferenceMode = !isTrainable };
        if (!File.Exists(weightsPath)) throw new FileNotFoundException($"Adapter weights not found: {weightsPath}", weightsPath);
        bool first = _adapterNames.Count == 0;
        Inject(config, adapterName);
        try
        {
            var tensors = SafetensorsFile.LoadAll(weightsPath);
            try
            {
                SetAdapterStateDict(tensors, adapterName, weightsPath);
            }
            finally
            {
                foreach (var tensor in tensors.Values) tensor.Dispose();
            }
        }
        catch
        {
            RemoveAdapter(adapterName);
            if (first) RemoveWrappers();
            throw;
        }
        if (first) ActiveAdapter = adapterName;
        ApplyTrainability();
        if (first && !isTrainable) Model.eval();
    }

    /// <summary>PEFT's <c>set_adapter</c>: runs (and trains, unless its config is in inference mode) only <paramref name="adapterName"/>.</summary>
    public void SetAdapter(string adapterName)
    {
        CheckUsable();
        ActiveAdapter = CheckAdapter(adapterName);
        ActivateLayers();
    }

    /// <summary>
    /// diffusers' <c>set_adapters(names, weights)</c>: the named adapters run together, frozen, each at its weight (PEFT's
    /// <c>set_scale</c> on every layer holding it), so the output is the base plus the weighted sum of their updates.
    /// <see cref="ActiveAdapter"/> becomes the first name.
    /// </summary>
    public void SetAdapters(IReadOnlyList<string> adapterNames, IReadOnlyList<double>? weights = null)
    {
        CheckUsable();
        ArgumentNullException.ThrowIfNull(adapterNames);
        if (adapterNames.Count == 0) throw new ArgumentException("Name at least one adapter.", nameof(adapterNames));
        if (weights is not null && weights.Count != adapterNames.Count)
            throw new ArgumentException($"{adapterNames.Count} adapters but {weights.Count} weights; give one weight per adapter.", nameof(weights));
        foreach (var name in adapterNames) CheckAdapter(name);
        foreach (var (_, module) in ModuleSurgery.Modules(Model))
        {
            if (module is ModulesToSaveWrapper && adapterNames.Count > 1)
                throw new NotSupportedException("Adapters with modules_to_save cannot run together: each holds its own copy of the module.");
            if (module is not AdapterLayer layer) continue;
            var held = adapterNames.Where(layer.AdapterNames.Contains).ToList();
            layer.SetAdapter(held, inferenceMode: true);
            for (int i = 0; i < adapterNames.Count; i++)
            {
                if (held.Contains(adapterNames[i])) layer.SetScale(adapterNames[i], weights?[i] ?? 1.0);
            }
        }
        ActiveAdapter = adapterNames[0];
    }

    /// <summary>
    /// PEFT's <c>disable_adapter()</c> context: until the returned scope is disposed the model computes exactly the
    /// base model (merged adapters are unmerged by the next forward) and no adapter tensor trains.
    /// </summary>
    public IDisposable DisableAdapter()
    {
        CheckUsable();
        if (AdaptersDisabled) throw new InvalidOperationException("Adapters are already disabled; dispose the outer DisableAdapter scope first.");
        SetEnabled(false);
        return new EnableOnDispose(this);
    }

    /// <summary>PEFT's <c>delete_adapter</c>. Deleting the active adapter activates the first remaining one (by name).</summary>
    public void DeleteAdapter(string adapterName)
    {
        CheckUsable();
        CheckAdapter(adapterName);
        var merged = AdapterLayers().FirstOrDefault(l => l.MergedAdapters.Contains(adapterName));
        if (merged is not null) throw new InvalidOperationException($"Adapter '{adapterName}' is merged into '{merged.ModuleName}'; call UnmergeAdapter() before deleting it.");
        RemoveAdapter(adapterName);
        if (ActiveAdapter == adapterName)
        {
            ActiveAdapter = _adapterNames.OrderBy(n => n, StringComparer.Ordinal).FirstOrDefault();
            ActivateLayers();
        }
    }

    /// <summary>PEFT's <c>merge_adapter</c>: adds ΔW of the given adapters (default: the active one) into the base weights.</summary>
    public void MergeAdapter(IEnumerable<string>? adapterNames = null)
    {
        CheckUsable();
        var names = (adapterNames ?? ActiveNames()).Select(n => CheckAdapter(n)).ToList();
        foreach (var layer in AdapterLayers()) layer.Merge(names);
    }

    /// <summary>PEFT's <c>unmerge_adapter</c>: subtracts every merged ΔW again, restoring the base weights.</summary>
    public void UnmergeAdapter()
    {
        CheckUsable();
        foreach (var layer in AdapterLayers()) layer.Unmerge();
    }

    /// <summary>
    /// PEFT's <c>merge_and_unload</c>: merges the given adapters (default: the active one) and puts the plain layers
    /// back, so the returned model holds no adapter module. This PeftModel cannot be used afterwards.
    /// </summary>
    public nn.Module MergeAndUnload(IEnumerable<string>? adapterNames = null)
    {
        CheckUsable();
        var names = (adapterNames ?? ActiveNames()).Select(n => CheckAdapter(n)).ToList();
        foreach (var layer in AdapterLayers()) layer.Merge(names);
        RemoveWrappers();
        _unloaded = true;
        return Model;
    }

    /// <summary>
    /// PEFT's <c>unload</c>: puts the plain layers back without merging (merged adapters are unmerged first, so the
    /// result is the base model). Modules to save keep the active adapter's trained copy, as in PEFT.
    /// </summary>
    public nn.Module Unload()
    {
        CheckUsable();
        foreach (var layer in AdapterLayers()) layer.Unmerge();
        RemoveWrappers();
        _unloaded = true;
        return Model;
    }

    /// <summary>
    /// PEFT's <c>save_pretrained</c>: for each adapter (default: all), adapter_config.json and adapter_model.safetensors
    /// ({"format": "pt"}); the default adapter goes into <paramref name="directory"/>, others into a subfolder named after them.
    /// </summary>
    public void SavePretrained(string directory, IEnumerable<string>? selectedAdapters = null)
    {
        CheckUsable();
        foreach (var adapter in (selectedAdapters ?? _adapterNames).Select(n => CheckAdapter(n)).ToList())
        {
            var folder = adapter == DefaultAdapterName ? directory : Path.Combine(directory, adapter);
            var state = GetAdapterStateDict(adapter);
            SafetensorsWriter.Save(Path.Combine(folder, WeightsFileName),
                state.OrderBy(kv => kv.Key, StringComparer.Ordinal), new Dictionary<string, string> { ["format"] = "pt" });
            SavedConfig(adapter).Save(folder);
        }
    }

    /// <summary>
    /// PEFT's <c>get_peft_model_state_dict</c>: the adapter's tensors under their saved keys
    /// (<c>base_model.model.&lt;module&gt;.lora_A.weight</c>, adapter name removed). The values are the live
    /// parameters (their <c>.grad</c> included), not copies.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> GetAdapterStateDict(string? adapterName = null) =>
        AdapterState(CheckAdapter(adapterName ?? ActiveAdapter), out _);

    /// <summary>
    /// PEFT's <c>set_peft_model_state_dict</c>, strict: every adapter tensor must be present with its shape, and no
    /// unknown key may appear. Bias keys (<c>bias="lora_only"</c>/<c>"all"</c>) are optional because PEFT 0.20.0 omits
    /// the lora_only ones. <paramref name="source"/> only labels errors.
    /// </summary>
    public void SetAdapterStateDict(IReadOnlyDictionary<string, Tensor> state, string? adapterName = null, string? source = null)
    {
        var adapter = CheckAdapter(adapterName ?? ActiveAdapter);
        var expected = AdapterState(adapter, out var optional);
        var label = source ?? "adapter state dict";
        var missing = expected.Keys.Where(k => !optional.Contains(k) && !state.ContainsKey(k)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{label}: missing {missing.Count} adapter tensor(s) for '{adapter}': {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", ..." : "")}.");
        var unexpected = state.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        if (unexpected.Count > 0)
        {
            var hint = unexpected.All(k => !k.StartsWith(KeyPrefix, StringComparison.Ordinal)) ? $" PEFT keys start with '{KeyPrefix}'." : "";
            throw new InvalidDataException($"{label}: {unexpected.Count} key(s) match no adapter tensor of '{adapter}': {string.Join(", ", unexpected.Take(5))}{(unexpected.Count > 5 ? ", ..." : "")}.{hint}");
        }
        foreach (var (key, target) in expected)
        {
            if (!state.TryGetValue(key, out var value)) continue;
            if (!value.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{label}: '{key}' has shape [{string.Join(", ", value.shape)}] but the model expects [{string.Join(", ", target.shape)}].");
        }
        using var noGrad = no_grad();
        foreach (var (key, target) in expected)
        {
            if (state.TryGetValue(key, out var value)) target.copy_(value);
        }
    }

    /// <summary>PEFT's <c>get_nb_trainable_parameters</c>: (parameters that require grad, all parameters incl. adapters).</summary>
    public (long Trainable, long All) GetNbTrainableParameters()
    {
        long trainable = 0, all = 0;
        foreach (var parameter in Model.parameters())
        {
            all += parameter.numel();
            if (parameter.requires_grad) trainable += parameter.numel();
        }
        return (trainable, all);
    }

    /// <summary>PEFT's <c>print_trainable_parameters</c> line: <c>trainable params: 9,408 || all params: 75,749 || trainable%: 12.4199</c>.</summary>
    public string TrainableParametersSummary()
    {
        var (trainable, all) = GetNbTrainableParameters();
        return string.Format(CultureInfo.InvariantCulture, "trainable params: {0:N0} || all params: {1:N0} || trainable%: {2:F4}", trainable, all, 100.0 * trainable / all);
    }

    /// <summary>Writes <see cref="TrainableParametersSummary"/> to <paramref name="output"/> (default: the console).</summary>
    public void PrintTrainableParameters(TextWriter? output = null) => (output ?? Console.Out).WriteLine(TrainableParametersSummary());

    /// <summary>
    /// The adapter's tensors by saved key; <paramref name="baseKeys"/> are the base parameters its config trains too
    /// (<see cref="AdapterConfig.TrainedBaseParameters"/>, e.g. LoRA's biases).
    /// </summary>
    private Dictionary<string, Tensor> AdapterState(string adapter, out HashSet<string> baseKeys)
    {
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var layers = new List<AdapterLayer>();
        foreach (var (name, module) in ModuleSurgery.Modules(Model))
        {
            if (module is AdapterLayer layer && layer.AdapterNames.Contains(adapter))
            {
                foreach (var tensor in layer.TensorsOf(adapter)) state[$"{KeyPrefix}{name}.{tensor.SavedKey}"] = tensor.Parameter;
                layers.Add(layer);
            }
            else if (module is ModulesToSaveWrapper wrapper && wrapper.AdapterNames.Contains(adapter))
            {
                foreach (var (key, tensor) in wrapper.CopyOf(adapter).state_dict()) state[$"{KeyPrefix}{name}.{key}"] = tensor;
            }
        }
        baseKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, parameter) in _configs[adapter].TrainedBaseParameters(layers, BaseParameters()))
        {
            state[KeyPrefix + key] = parameter;
            baseKeys.Add(KeyPrefix + key);
        }
        return state;
    }

    private void Inject(AdapterConfig config, string adapterName)
    {
        ArgumentNullException.ThrowIfNull(config);
        CheckNewAdapterName(adapterName);
        if (_configs.Count > 0 && _configs.Values.First().PeftType != config.PeftType)
            throw new NotSupportedException($"This model holds {_configs.Values.First().PeftType} adapters; a {config.PeftType} adapter cannot be added to it.");

        var modules = ModuleSurgery.Modules(Model);
        var entries = modules.Select(m => new ModuleEntry(m.Name, ModuleKinds.Of(m.Module))).ToList();
        var selection = config.SelectTargets(entries);
        // Old diffusers attention names (the lora_dreambooth script still lists query/value) are ignored as PEFT ignores
        // them; any other entry naming no module is an error.
        var unmatched = selection.Unmatched.Where(u => !u.IsRenamed).ToList();
        if (unmatched.Count > 0)
            throw new ArgumentException(string.Join(" ", unmatched.Select(u => u.Message)) + $" (model: {Model.GetType().Name})", "target_modules");
        // rank_pattern/alpha_pattern keys and exclude_modules/modules_to_save entries naming no module: PT0018's wording.
        var keyProblems = ModuleKeys.Problems(entries, Model.GetType().Name, config.RankPattern.Select(kv => kv.Key),
            config.AlphaPattern.Select(kv => kv.Key), config.ExcludeModules, config.ModulesToSave);
        if (keyProblems.Count > 0) throw new ArgumentException(string.Join(" ", keyProblems));
        if (selection.Unsupported.Count > 0)
        {
            var bad = selection.Unsupported[0];
            throw new NotSupportedException($"Target module '{bad.Name}' is a {bad.Kind}; {config.PeftType} adapters wrap {string.Join(" and ", config.SupportedKinds)} layers. Narrow target_modules or add it to exclude_modules.");
        }
        if (selection.Targeted.Count == 0)
            throw new ArgumentException(selection.Excluded.Count > 0
                ? "All targeted modules were excluded; check target_modules, exclude_modules and modules_to_save."
                : selection.Unmatched.Count > 0 ? string.Join(" ", selection.Unmatched.Select(u => u.Message)) + $" (model: {Model.GetType().Name})"
                : $"Target modules {config.TargetModules} not found in {Model.GetType().Name}.", "target_modules");

        var toSave = ModulesToSave(config, modules);
        var byName = modules.ToDictionary(m => m.Name, m => m.Module, StringComparer.Ordinal);
        var created = new List<(string Name, AdapterLayer Layer)>();
        var extended = new List<AdapterLayer>();
        try
        {
            foreach (var target in selection.Targeted)
            {
                if (byName[target.Name] is AdapterLayer existing)
                {
                    config.AddToLayer(existing, target.Name, adapterName);
                    extended.Add(existing);
                }
                else
                {
                    ModuleSurgery.CheckReplaceable(Model, target.Name, typeof(AdapterLayer));
                    created.Add((target.Name, config.CreateLayer((nn.Module<Tensor, Tensor>)byName[target.Name], target.Name, adapterName)));
                }
            }
        }
        catch
        {
            foreach (var (_, layer) in created)
            {
                layer.DetachBaseLayer();
                layer.Dispose();
            }
            foreach (var layer in extended) layer.DeleteAdapter(adapterName);
            throw;
        }
        foreach (var (name, layer) in created) ModuleSurgery.Replace(Model, name, layer);
        foreach (var (name, module) in toSave)
        {
            if (module is ModulesToSaveWrapper wrapper)
            {
                wrapper.AddAdapter(adapterName);
                continue;
            }
            var newWrapper = new ModulesToSaveWrapper((nn.Module<Tensor, Tensor>)module, name);
            newWrapper.AddAdapter(adapterName);
            ModuleSurgery.Replace(Model, name, newWrapper);
        }
        _adapterNames.Add(adapterName);
        _configs[adapterName] = config;
        _targeted[adapterName] = selection.Targeted.Select(t => t.Name).ToList();
    }

    /// <summary>The modules <c>modules_to_save</c> selects, checked to be copyable and replaceable before anything changes.</summary>
    private List<(string Name, nn.Module Module)> ModulesToSave(AdapterConfig config, IReadOnlyList<(string Name, nn.Module Module)> modules)
    {
        if (config.ModulesToSave is not { Count: > 0 } entries) return [];
        var selected = modules.Where(m => ModulesToSaveMatcher.IsSaved(entries, m.Name)).ToList();
        foreach (var (name, module) in selected)
        {
            if (module is ModulesToSaveWrapper) continue;
            if (!ModuleCloner.CanClone(module))
                throw new NotSupportedException($"modules_to_save entry '{name}' is a {ModuleKinds.Of(module)}; copies can be made of Linear, Conv2d, LayerNorm and affine GroupNorm layers.");
            ModuleSurgery.CheckReplaceable(Model, name, typeof(ModulesToSaveWrapper));
        }
        return selected;
    }

    /// <summary>
    /// PEFT's <c>_mark_only_adapters_as_trainable</c> + <c>set_adapter</c>: every non-adapter parameter frozen, then
    /// the active adapter's tensors (and biases per its <c>bias</c> option) trainable unless it is in inference mode.
    /// </summary>
    private void ApplyTrainability()
    {
        var baseParameters = BaseParameters();
        foreach (var (_, parameter) in baseParameters) parameter.requires_grad = false;
        // As PEFT's _mark_only_adapters_as_trainable: the rules of the active adapter's config, over every adapter layer.
        if (ActiveAdapter is not null && _configs[ActiveAdapter] is { InferenceMode: false } config)
        {
            foreach (var (_, parameter) in config.TrainedBaseParameters(AdapterLayers(), baseParameters)) parameter.requires_grad = true;
        }
        ActivateLayers();
    }

    private void ActivateLayers()
    {
        bool inference = ActiveAdapter is null || _configs[ActiveAdapter].InferenceMode;
        IReadOnlyList<string> active = ActiveAdapter is null ? [] : [ActiveAdapter];
        foreach (var (_, module) in ModuleSurgery.Modules(Model))
        {
            if (module is AdapterLayer layer) layer.SetAdapter(active, inference);
            else if (module is ModulesToSaveWrapper wrapper) wrapper.SetAdapter(ActiveAdapter, inference);
        }
        if (AdaptersDisabled) SetEnabled(false);
    }

    private void SetEnabled(bool enabled)
    {
        bool inference = ActiveAdapter is null || _configs[ActiveAdapter].InferenceMode;
        foreach (var (_, module) in ModuleSurgery.Modules(Model))
        {
            if (module is AdapterLayer layer) layer.EnableAdapters(enabled, inference);
            else if (module is ModulesToSaveWrapper wrapper) wrapper.EnableAdapters(enabled, inference);
        }
        AdaptersDisabled = !enabled;
    }

    /// <summary>Parameters outside adapter tensors and modules-to-save copies, with their model keys.</summary>
    private IReadOnlyList<(string Key, Parameter Parameter)> BaseParameters()
    {
        var adapterTensors = new HashSet<IntPtr>();
        foreach (var (_, module) in ModuleSurgery.Modules(Model))
        {
            if (module is AdapterLayer layer)
            {
                foreach (var adapter in layer.AdapterNames)
                {
                    foreach (var tensor in layer.TensorsOf(adapter)) adapterTensors.Add(tensor.Parameter.Handle);
                }
            }
            else if (module is ModulesToSaveWrapper wrapper)
            {
                foreach (var adapter in wrapper.AdapterNames)
                {
                    foreach (var parameter in wrapper.CopyOf(adapter).parameters()) adapterTensors.Add(parameter.Handle);
                }
            }
        }
        return Model.named_parameters().Where(p => !adapterTensors.Contains(p.parameter.Handle)).ToList();
    }

    private void RemoveAdapter(string adapterName)
    {
        foreach (var (_, module) in ModuleSurgery.Modules(Model))
        {
            if (module is AdapterLayer layer && layer.AdapterNames.Contains(adapterName)) layer.DeleteAdapter(adapterName);
            else if (module is ModulesToSaveWrapper wrapper) wrapper.DeleteAdapter(adapterName);
        }
        _adapterNames.Remove(adapterName);
        _configs.Remove(adapterName);
        _targeted.Remove(adapterName);
    }

    /// <summary>Puts the plain module back in place of every wrapper (callers merge or unmerge first).</summary>
    private void RemoveWrappers()
    {
        foreach (var (name, module) in ModuleSurgery.Modules(Model))
        {
            if (module is AdapterLayer layer)
            {
                ModuleSurgery.Replace(Model, name, layer.BaseLayer);
                layer.DetachBaseLayer();
                layer.Dispose();
            }
            else if (module is ModulesToSaveWrapper wrapper)
            {
                var keep = wrapper.DetachForUnload();
                ModuleSurgery.Replace(Model, name, keep);
                wrapper.Dispose();
            }
        }
    }

    /// <summary>The config as save_pretrained writes it: inference mode, "all-linear" resolved to module names, auto_mapping filled.</summary>
    private AdapterConfig SavedConfig(string adapterName)
    {
        var config = _configs[adapterName];
        var targets = config.TargetModules is { Kind: TargetModulesKind.AllLinear } ? TargetModules.FromNames(_targeted[adapterName]) : config.TargetModules;
        var type = Model.GetType();
        return config with
        {
            InferenceMode = true,
            TargetModules = targets,
            AutoMapping = config.AutoMapping ?? new JsonObject { ["base_model_class"] = type.Name, ["parent_library"] = type.Namespace },
        };
    }

    private IReadOnlyList<string> ActiveNames() => ActiveAdapter is null ? [] : [ActiveAdapter];

    private string CheckAdapter(string? adapterName) =>
        adapterName is not null && _configs.ContainsKey(adapterName)
            ? adapterName
            : throw new KeyNotFoundException($"Adapter '{adapterName}' not found; adapters: {string.Join(", ", _adapterNames)}.");

    private void CheckNewAdapterName(string adapterName)
    {
        if (string.IsNullOrEmpty(adapterName) || adapterName.Contains('.'))
            throw new ArgumentException($"Invalid adapter name '{adapterName}': it must be non-empty and contain no '.', since it becomes a state-dict key segment.", nameof(adapterName));
        if (_configs.ContainsKey(adapterName)) throw new ArgumentException($"An adapter named '{adapterName}' already exists.", nameof(adapterName));
    }

    private void CheckUsable()
    {
        if (_unloaded) throw new InvalidOperationException("The adapters were unloaded (MergeAndUnload/Unload); this PeftModel can no longer be used.");
    }

    private sealed class EnableOnDispose(PeftModel owner) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            if (!owner._unloaded) owner.SetEnabled(true);
        }
    }
}
