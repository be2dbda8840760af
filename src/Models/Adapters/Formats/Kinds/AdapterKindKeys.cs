using System.Text.RegularExpressions;
using Peft.Typed.Architecture.Targeting;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Formats.Kinds;

/// <summary>
/// What the file formats need to know about one adapter kind: its tensor names in PEFT and kohya/LyCORIS files, the
/// rank a module's tensors imply, and the config that reproduces a file's per-module ranks and alphas. One subclass
/// per kind, in the kind's folder (its <see cref="AdapterKind.FormatKeys"/>).
/// </summary>
internal abstract class AdapterKindKeys
{
    /// <summary>Every kind the formats read and write.</summary>
    public static IReadOnlyList<AdapterKindKeys> All { get; } = AdapterKinds.All.Select(k => k.FormatKeys).OfType<AdapterKindKeys>().ToList();

    /// <summary>The kind's <c>peft_type</c>.</summary>
    public abstract string Type { get; }

    /// <summary>The tensor names after the module in PEFT keys (<c>lora_A.weight</c>, ...).</summary>
    public abstract IReadOnlyList<string> PeftTensorNames { get; }

    /// <summary>The tensor names every module of this kind must have.</summary>
    public abstract IReadOnlyList<string> RequiredTensorNames(IReadOnlyCollection<string> present);

    /// <summary>The kohya/LyCORIS spelling of a PEFT tensor name (<c>lora_A.weight</c> → <c>lora_down.weight</c>).</summary>
    public virtual string KohyaTensorName(string peftName) => peftName;

    /// <summary>The PEFT tensor name of a kohya/LyCORIS one, or null when it is not this kind's.</summary>
    public virtual string? PeftTensorName(string kohyaName) => PeftTensorNames.Contains(kohyaName) ? kohyaName : null;

    /// <summary>The kind whose PEFT or kohya tensor name this is, or null.</summary>
    public static AdapterKindKeys? OfKohyaTensor(string name) => All.FirstOrDefault(k => k.PeftTensorName(name) is not null);

    /// <summary>The kind whose PEFT tensor name this is, or null.</summary>
    public static AdapterKindKeys? OfPeftTensor(string name) => All.FirstOrDefault(k => k.PeftTensorNames.Contains(name));

    /// <summary>The keys of the kind with this <c>peft_type</c>, or null when no single-file format holds it.</summary>
    public static AdapterKindKeys? Of(string peftType) => All.FirstOrDefault(k => k.Type == peftType);

    /// <summary>
    /// The rank a module's tensors imply (the size LoRA's down/A or LyCORIS's w_b leads with), after checking they fit
    /// together; throws <see cref="AdapterFormatException"/> naming the module and the shapes otherwise.
    /// </summary>
    public abstract int RankOf(ModuleAdapter module, string filePath);

    /// <summary>
    /// The scale the kohya/LyCORIS loaders (kohya-ss, ComfyUI) apply: alpha / rank, or 1 without alpha. LoKr with no
    /// decomposed factor has no rank and always scale 1.
    /// </summary>
    public virtual double KohyaScale(ModuleAdapter module, int rank) => module.Alpha is { } alpha ? alpha / rank : 1.0;

    /// <summary>A config of this kind for the given modules, ranks and alphas (rank_pattern/alpha_pattern where they differ).</summary>
    public abstract AdapterConfig BuildConfig(IReadOnlyList<(ModuleAdapter Module, int Rank, double Alpha)> modules);

    /// <summary>
    /// One module for a kohya/LyCORIS file: its tensors by PEFT name and the alpha to write, such that the kohya
    /// loaders' scale gives PEFT's. New tensors are created in the caller's dispose scope.
    /// </summary>
    public virtual (IReadOnlyDictionary<string, Tensor> Tensors, double Alpha) ForKohya(AdapterConfig config, string module, IReadOnlyDictionary<string, Tensor> tensors)
    {
        int r = config.RankFor(module);
        return (tensors, Scaling(config, module) * r);
    }

    /// <summary>PEFT's scaling of one module.</summary>
    public virtual double Scaling(AdapterConfig config, string module) => config.AlphaFor(module) / config.RankFor(module);

    /// <summary>The shape of a tensor for messages: <c>[4, 32]</c>.</summary>
    public static string Shape(Tensor t) => $"[{string.Join(", ", t.shape)}]";

    /// <summary>(rank, alpha) defaults = the most common values, with patterns for the modules that differ.</summary>
    protected static (int R, double Alpha, List<KeyValuePair<string, int>> RankPattern, List<KeyValuePair<string, double>> AlphaPattern, TargetModules Targets)
        Common(IReadOnlyList<(ModuleAdapter Module, int Rank, double Alpha)> modules)
    {
        int r = modules.GroupBy(m => m.Rank).OrderByDescending(g => g.Count()).First().Key;
        double alpha = modules.GroupBy(m => m.Alpha).OrderByDescending(g => g.Count()).First().Key;
        var rankPattern = modules.Where(m => m.Rank != r).Select(m => new KeyValuePair<string, int>(PatternKey(m.Module.Module), m.Rank)).ToList();
        var alphaPattern = modules.Where(m => m.Alpha != alpha).Select(m => new KeyValuePair<string, double>(PatternKey(m.Module.Module), m.Alpha)).ToList();
        return (r, alpha, rankPattern, alphaPattern, TargetModules.FromNames(modules.Select(m => m.Module.Module)));
    }

    /// <summary>A rank/alpha pattern key that matches exactly this module (the name with its dots escaped).</summary>
    private static string PatternKey(string module) => Regex.Escape(module);
}
