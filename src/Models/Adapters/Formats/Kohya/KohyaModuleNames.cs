using Peft.Typed.Architecture.Targeting;

namespace Peft.Typed.Models.Adapters.Formats.Kohya;

/// <summary>
/// The kohya-ss names of one model component's adaptable modules: the component's prefix (<c>lora_unet</c>,
/// <c>lora_te1</c>, <c>lora_te2</c>) and the module path with every <c>.</c> replaced by <c>_</c>. Reading maps a name
/// back through the model's module names (names themselves hold <c>_</c>); for a UNet it also accepts the original SD
/// block names A1111 files use (<see cref="OriginalSdUnetNames"/>), and for the first text encoder <c>lora_te_</c>.
/// </summary>
public sealed class KohyaModuleNames
{
    private readonly Dictionary<string, string> _modules = new(StringComparer.Ordinal);
    private readonly List<string> _ambiguous = [];

    /// <param name="component"><c>unet</c>, <c>text_encoder</c> or <c>text_encoder_2</c>.</param>
    /// <param name="catalog">The component's modules.</param>
    public KohyaModuleNames(string component, ModuleCatalog catalog)
    {
        Component = component;
        Prefix = PrefixOf(component);
        var adaptable = catalog.Modules.Where(m => m.Name.Length > 0 && ModuleCatalog.IsAdaptableKind(m.Kind)).Select(m => m.Name).ToList();
        foreach (var module in adaptable) Add(NameOf(module), module);
        if (component == "unet")
        {
            OriginalSdNames = OriginalSdUnetNames.Map(catalog);
            foreach (var (module, original) in OriginalSdNames) Add($"{Prefix}_{original.Replace('.', '_')}", module);
        }
        else
        {
            OriginalSdNames = new Dictionary<string, string>();
        }
        if (component == "text_encoder")
        {
            foreach (var module in adaptable) Add($"lora_te_{module.Replace('.', '_')}", module);
        }
    }

    /// <summary>The component these names belong to.</summary>
    public string Component { get; }

    /// <summary>The prefix written for the component, without the trailing <c>_</c>.</summary>
    public string Prefix { get; }

    /// <summary>Every accepted kohya name → module.</summary>
    public IReadOnlyDictionary<string, string> Modules => _modules;

    /// <summary>Kohya names two different modules would share (none for a well-formed model; tested).</summary>
    public IReadOnlyList<string> Ambiguous => _ambiguous;

    /// <summary>Module → original SD name (UNet only; empty otherwise).</summary>
    public IReadOnlyDictionary<string, string> OriginalSdNames { get; }

    /// <summary>The kohya name written for <paramref name="module"/>.</summary>
    public string NameOf(string module) => NameOf(Prefix, module);

    /// <summary>The module a kohya name denotes, or null.</summary>
    public string? ModuleOf(string kohyaName) => _modules.TryGetValue(kohyaName, out var module) && !_ambiguous.Contains(kohyaName) ? module : null;

    /// <summary>The accepted kohya name closest to <paramref name="kohyaName"/> by edit distance.</summary>
    public string? Closest(string kohyaName) => ClosestName.Find(kohyaName, _modules.Keys);

    /// <summary>The kohya prefix of a component: <c>lora_unet</c>, <c>lora_te1</c> (as diffusers and SDXL kohya files write it), <c>lora_te2</c>.</summary>
    public static string PrefixOf(string component) => component switch
    {
        "unet" => "lora_unet",
        "text_encoder" => "lora_te1",
        "text_encoder_2" => "lora_te2",
        _ => throw new ArgumentException($"Kohya files hold the components unet, text_encoder and text_encoder_2, not '{component}'.", nameof(component)),
    };

    /// <summary>The component a kohya key belongs to by its prefix, or null.</summary>
    public static string? ComponentOf(string key) =>
        key.StartsWith("lora_unet_", StringComparison.Ordinal) ? "unet"
        : key.StartsWith("lora_te1_", StringComparison.Ordinal) || key.StartsWith("lora_te_", StringComparison.Ordinal) ? "text_encoder"
        : key.StartsWith("lora_te2_", StringComparison.Ordinal) ? "text_encoder_2"
        : null;

    /// <summary><paramref name="prefix"/>_<paramref name="module"/> with dots replaced by underscores.</summary>
    public static string NameOf(string prefix, string module) => $"{prefix}_{module.Replace('.', '_')}";

    private void Add(string name, string module)
    {
        if (_modules.TryGetValue(name, out var existing))
        {
            if (existing != module && !_ambiguous.Contains(name)) _ambiguous.Add(name);
            return;
        }
        _modules.Add(name, module);
    }
}
