using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Typed.Architecture.Settings;
using Peft.Typed.Architecture.Targeting;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters;

/// <summary>
/// The fields every PEFT 0.20.0 adapter config shares (<c>r</c>, <c>target_modules</c>, patterns, ...), the
/// adapter_config.json reader/writer, and the bridge from a config to the layers it creates. Values are checked
/// when set, so an invalid config never exists: the error names the PEFT field and the value.
/// </summary>
public abstract record AdapterConfig
{
    /// <summary>The PEFT version whose file format and numbers this library reproduces.</summary>
    public const string CompatiblePeftVersion = "0.20.0";

    /// <summary>The file name PEFT's <c>save_pretrained</c> writes the config to.</summary>
    public const string FileName = "adapter_config.json";

    private static readonly JsonSerializerOptions WriteOptions = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private int _r = 8;
    private IReadOnlyList<KeyValuePair<string, int>> _rankPattern = [];
    private IReadOnlyList<KeyValuePair<string, double>> _alphaPattern = [];
    private JsonObject _otherFields = new();

    /// <summary><c>peft_type</c> (<c>LORA</c>, <c>LOHA</c>, <c>LOKR</c>): the key <see cref="FromJson"/> finds the kind by.</summary>
    public abstract string PeftType { get; }

    /// <summary><c>r</c>: the rank (default 8).</summary>
    public int R
    {
        get => _r;
        init => _r = AdapterSettings.Rank(value) is { } problem ? throw new AdapterConfigException("r", problem) : value;
    }

    /// <summary><c>target_modules</c>: names/suffixes, a full-match regex, or "all-linear".</summary>
    public TargetModules? TargetModules { get; init; }

    /// <summary><c>exclude_modules</c>: modules never adapted even when targeted (same list/regex rules).</summary>
    public TargetModules? ExcludeModules { get; init; }

    /// <summary><c>modules_to_save</c>: modules trained in full and saved with the adapter (name-suffix match).</summary>
    public IReadOnlyList<string>? ModulesToSave { get; init; }

    /// <summary><c>rank_pattern</c>: regex key → rank; the first key (in order) matching <c>(.*\.)?(key)$</c> wins.</summary>
    public IReadOnlyList<KeyValuePair<string, int>> RankPattern
    {
        get => _rankPattern;
        init
        {
            foreach (var (key, rank) in value)
            {
                CheckPatternKey("rank_pattern", key);
                if (AdapterSettings.PatternRank(key, rank) is { } problem) throw new AdapterConfigException("rank_pattern", problem);
            }
            _rankPattern = value.ToList();
        }
    }

    /// <summary><c>alpha_pattern</c>: regex key → alpha, resolved like <see cref="RankPattern"/>.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> AlphaPattern
    {
        get => _alphaPattern;
        init
        {
            foreach (var (key, alpha) in value)
            {
                CheckPatternKey("alpha_pattern", key);
                if (AdapterSettings.PatternAlpha(key, alpha) is { } problem) throw new AdapterConfigException("alpha_pattern", problem);
            }
            _alphaPattern = value.ToList();
        }
    }

    /// <summary><c>inference_mode</c>: adapter weights frozen. PEFT writes true into every saved config.</summary>
    public bool InferenceMode { get; init; }

    /// <summary><c>base_model_name_or_path</c>.</summary>
    public string? BaseModelNameOrPath { get; init; }

    /// <summary><c>revision</c>.</summary>
    public string? Revision { get; init; }

    /// <summary><c>task_type</c> (informational here: adapters apply to any module tree).</summary>
    public string? TaskType { get; init; }

    /// <summary><c>peft_version</c>.</summary>
    public string PeftVersion { get; init; } = CompatiblePeftVersion;

    /// <summary><c>auto_mapping</c>: the base model class PEFT records for models outside transformers.</summary>
    public JsonObject? AutoMapping { get; init; }

    /// <summary>The alpha used when no <see cref="AlphaPattern"/> key matches (<c>lora_alpha</c> or <c>alpha</c>).</summary>
    public abstract double DefaultAlpha { get; }

    /// <summary>The module classes this adapter kind can wrap.</summary>
    public IReadOnlyCollection<string> SupportedKinds { get; } = ["Linear", "Conv2d"];

    /// <summary>The prefix of this kind's tensor names (<c>lora_</c>, <c>hada_</c>, <c>lokr_</c>).</summary>
    public abstract string ParameterPrefix { get; }

    /// <summary>The rank for one module, after <c>rank_pattern</c>.</summary>
    public int RankFor(string moduleName) => PatternKeys.ValueFor(RankPattern, moduleName, R);

    /// <summary>The alpha for one module, after <c>alpha_pattern</c>.</summary>
    public double AlphaFor(string moduleName) => PatternKeys.ValueFor(AlphaPattern, moduleName, DefaultAlpha);

    /// <summary>
    /// The modules this config adapts among <paramref name="modules"/> (names + classes, e.g. from
    /// <see cref="PeftModel.ListModules"/> or a generator's module tree), by PEFT's rules.
    /// </summary>
    public TargetSelection SelectTargets(IReadOnlyList<ModuleEntry> modules)
    {
        if (TargetModules is null) throw new AdapterConfigException("target_modules", "target_modules is not set; give module names, a regex or \"all-linear\".");
        return TargetSelector.Select(modules, TargetModules, ExcludeModules, ModulesToSave, SupportedKinds);
    }

    /// <summary>Wraps <paramref name="target"/> in a new adapter layer of this kind holding adapter <paramref name="adapterName"/>.</summary>
    internal abstract AdapterLayer CreateLayer(nn.Module<Tensor, Tensor> target, string moduleName, string adapterName);

    /// <summary>Adds adapter <paramref name="adapterName"/> to an existing layer of this kind.</summary>
    internal abstract void AddToLayer(AdapterLayer layer, string moduleName, string adapterName);

    /// <summary>Reads adapter_config.json (a file, or a folder holding one).</summary>
    public static AdapterConfig Load(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, FileName) : path;
        if (!File.Exists(file)) throw new FileNotFoundException($"Adapter config not found: {file}", file);
        return FromJson(File.ReadAllText(file), file);
    }

    /// <summary>Parses adapter_config.json text; <paramref name="filePath"/> only labels errors.</summary>
    public static AdapterConfig FromJson(string json, string? filePath = null)
    {
        JsonObject obj;
        try
        {
            obj = JsonNode.Parse(json) as JsonObject ?? throw new AdapterConfigException("peft_type", "The adapter config must be a JSON object.", filePath);
        }
        catch (JsonException e)
        {
            throw new AdapterConfigException("peft_type", $"The adapter config is not valid JSON: {e.Message}", filePath, e);
        }
        try
        {
            var reader = new ConfigReader(obj);
            var type = reader.String("peft_type");
            var kind = (type is null ? null : AdapterKinds.Find(type))
                ?? throw new AdapterConfigException("peft_type", AdapterFileFields.UnsupportedPeftType(AdapterConfigException.Show(type), AdapterKinds.All.Select(k => k.PeftType)));
            return kind.Read(reader).WithCommonFields(reader);
        }
        catch (AdapterConfigException e) when (filePath is not null && e.FilePath is null)
        {
            throw e.InFile(filePath);
        }
    }

    /// <summary>The config as adapter_config.json text: PEFT 0.20.0's field set, sorted keys, two-space indent.</summary>
    public string ToJson()
    {
        var obj = new JsonObject();
        foreach (var (key, value) in ToJsonFields().OrderBy(kv => kv.Key, StringComparer.Ordinal)) obj[key] = value;
        return obj.ToJsonString(WriteOptions);
    }

    /// <summary>Writes <c>adapter_config.json</c> into <paramref name="directory"/>.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, FileName), ToJson() + "\n");
    }

    /// <summary>Every field PEFT writes for this kind, unsorted.</summary>
    private IEnumerable<KeyValuePair<string, JsonNode?>> ToJsonFields()
    {
        var fields = new Dictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["alpha_pattern"] = new JsonObject(AlphaPattern.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, ConfigReader.Number(kv.Value, asFloat: false)))),
            ["auto_mapping"] = AutoMapping?.DeepClone(),
            ["base_model_name_or_path"] = BaseModelNameOrPath,
            ["exclude_modules"] = TargetsToJson(ExcludeModules),
            ["inference_mode"] = InferenceMode,
            ["modules_to_save"] = ModulesToSave is null ? null : new JsonArray(ModulesToSave.Select(m => (JsonNode?)m).ToArray()),
            ["peft_type"] = PeftType,
            ["peft_version"] = PeftVersion,
            ["r"] = R,
            ["rank_pattern"] = new JsonObject(RankPattern.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value))),
            ["revision"] = Revision,
            ["target_modules"] = TargetsToJson(TargetModules),
            ["task_type"] = TaskType,
        };
        foreach (var (key, value) in PassThroughDefaults()) fields[key] = value;
        foreach (var (key, value) in _otherFields) fields[key] = value?.DeepClone();
        WriteKindFields(fields);
        return fields;
    }

    /// <summary>Adds this kind's own fields (<c>lora_alpha</c>, <c>decompose_both</c>, ...).</summary>
    private protected abstract void WriteKindFields(IDictionary<string, JsonNode?> fields);

    /// <summary>
    /// Fields of PEFT's config that this library does not interpret, with the PEFT default each must keep
    /// (<c>use_dora: false</c>, <c>layers_to_transform: null</c>, ...). Written as-is so PEFT reads the file back.
    /// </summary>
    private protected abstract IReadOnlyDictionary<string, JsonNode?> PassThroughDefaults();

    /// <summary>Pass-through fields whose value never matters (options of a feature that is off), accepted as written.</summary>
    private protected virtual IReadOnlyCollection<string> InertFields => [];

    /// <summary>The config with every alpha (<c>lora_alpha</c>/<c>alpha</c> and <c>alpha_pattern</c>) multiplied by <paramref name="factor"/>, so every scaling is.</summary>
    internal abstract AdapterConfig WithAlphaScaled(double factor);

    /// <summary>The alpha pattern with every value multiplied by <paramref name="factor"/>.</summary>
    private protected IReadOnlyList<KeyValuePair<string, double>> AlphaPatternScaled(double factor) =>
        AlphaPattern.Select(kv => new KeyValuePair<string, double>(kv.Key, kv.Value * factor)).ToList();

    /// <summary>
    /// Base-model parameters this adapter trains and saves besides its own tensors (LoRA's <c>bias</c> option), by
    /// model key. <paramref name="adapterLayers"/> are the layers holding the adapter.
    /// </summary>
    internal virtual IEnumerable<(string Key, Parameter Parameter)> TrainedBaseParameters(
        IReadOnlyList<AdapterLayer> adapterLayers, IReadOnlyList<(string Key, Parameter Parameter)> baseParameters) => [];

    /// <summary>What of this adapter the single-file formats (diffusers, kohya) cannot hold, for their error message; null when they hold it all.</summary>
    internal virtual string? NotInSingleFileFormats => null;


    private AdapterConfig WithCommonFields(ConfigReader reader)
    {
        var config = this with
        {
            R = reader.Int("r", 8),
            TargetModules = reader.Targets("target_modules", allowAllLinear: true),
            ExcludeModules = reader.Targets("exclude_modules", allowAllLinear: false),
            ModulesToSave = reader.StringList("modules_to_save"),
            RankPattern = reader.IntMap("rank_pattern"),
            AlphaPattern = reader.NumberMap("alpha_pattern"),
            InferenceMode = reader.Bool("inference_mode", false),
            BaseModelNameOrPath = reader.String("base_model_name_or_path"),
            Revision = reader.String("revision"),
            TaskType = reader.String("task_type"),
            PeftVersion = reader.String("peft_version") ?? CompatiblePeftVersion,
            AutoMapping = reader.Raw("auto_mapping") switch
            {
                null => null,
                JsonObject o => (JsonObject)o.DeepClone(),
                var other => throw AdapterConfigException.Invalid("auto_mapping", new AdapterConfigException.RawJson(other.ToJsonString()), "auto_mapping must be an object or null."),
            },
        };
        var defaults = config.PassThroughDefaults();
        var kept = new JsonObject();
        foreach (var (key, _) in defaults)
        {
            var value = reader.Raw(key);
            if (value is null) continue;
            if (!config.InertFields.Contains(key) && !IsOff(value) && !JsonNode.DeepEquals(value, defaults[key]))
                throw AdapterConfigException.Unsupported(key, new AdapterConfigException.RawJson(value.ToJsonString()), $"this library implements plain {config.PeftType} as in PEFT {CompatiblePeftVersion}; set it to {defaults[key]?.ToJsonString() ?? "null"}.");
            kept[key] = value.DeepClone();
        }
        foreach (var (key, value) in reader.Unread.ToList())
        {
            if (!IsOff(value))
                throw AdapterConfigException.Unsupported(key, new AdapterConfigException.RawJson(value!.ToJsonString()), $"unknown {config.PeftType} field (PEFT {CompatiblePeftVersion} has no such option).");
            kept[key] = value?.DeepClone();
        }
        config._otherFields = kept;
        return config;
    }

    /// <summary>null, false, {} or []: the value every optional PEFT feature uses for "not used".</summary>
    private static bool IsOff(JsonNode? value) => value switch
    {
        null => true,
        JsonObject o => o.Count == 0,
        JsonArray a => a.Count == 0,
        _ => value.GetValueKind() == JsonValueKind.False,
    };

    private static JsonNode? TargetsToJson(TargetModules? targets) => targets switch
    {
        null => null,
        { Kind: TargetModulesKind.Names } => new JsonArray(targets.Names.Select(n => (JsonNode?)n).ToArray()),
        _ => targets.Pattern,
    };

    private static void CheckPatternKey(string field, string key)
    {
        try
        {
            TargetModules.FullMatchRegex(key);
        }
        catch (ArgumentException e)
        {
            throw AdapterConfigException.Invalid(field, key, e.Message);
        }
    }
}
