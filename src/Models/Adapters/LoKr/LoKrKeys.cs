using Peft.Typed.Models.Adapters.Formats;
using Peft.Typed.Models.Adapters.Formats.Kinds;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.LoKr;

/// <summary>
/// LoKr: <c>lokr_w1</c> or <c>lokr_w1_a/w1_b</c>, <c>lokr_w2</c> or <c>lokr_w2_a/w2_b</c> (+ <c>lokr_t2</c>), named alike by
/// PEFT and LyCORIS. The rank is the inner size of a decomposed factor; with both factors full there is none, and
/// LyCORIS and ComfyUI apply scale 1 whatever <c>.alpha</c> says, so PEFT's alpha/r is folded into <c>lokr_w2</c>.
/// </summary>
internal sealed class LoKrKeys : AdapterKindKeys
{
    public override string Type => LoKrConfig.PeftTypeName;

    public override IReadOnlyList<string> PeftTensorNames { get; } = ["lokr_w1", "lokr_w1_a", "lokr_w1_b", "lokr_w2", "lokr_w2_a", "lokr_w2_b", "lokr_t2"];

    public override IReadOnlyList<string> RequiredTensorNames(IReadOnlyCollection<string> present)
    {
        var required = new List<string>();
        required.AddRange(present.Contains("lokr_w1_a") || present.Contains("lokr_w1_b") ? ["lokr_w1_a", "lokr_w1_b"] : ["lokr_w1"]);
        required.AddRange(present.Contains("lokr_t2") ? ["lokr_w2_a", "lokr_w2_b", "lokr_t2"]
            : present.Contains("lokr_w2_a") || present.Contains("lokr_w2_b") ? ["lokr_w2_a", "lokr_w2_b"] : ["lokr_w2"]);
        return required;
    }

    private static bool IsDecomposed(IReadOnlyDictionary<string, Tensor> t) => t.ContainsKey("lokr_w1_a") || t.ContainsKey("lokr_w2_a");

    public override int RankOf(ModuleAdapter module, string filePath)
    {
        var t = module.Tensors;
        var ranks = new List<long>();
        if (t.ContainsKey("lokr_w1_a")) ranks.AddRange([t["lokr_w1_a"].shape[1], t["lokr_w1_b"].shape[0]]);
        if (t.ContainsKey("lokr_w2_a"))
        {
            ranks.Add(t["lokr_w2_b"].shape[0]);
            ranks.Add(t.TryGetValue("lokr_t2", out var t2) ? t2.shape[0] : t["lokr_w2_a"].shape[1]);
        }
        if (ranks.Distinct().Count() > 1)
            throw new AdapterFormatException(filePath,
                $"'{module.FileName}': the LoKr tensors disagree on the rank ({string.Join(", ", t.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {Shape(kv.Value)}"))}).",
                [module.FileName]);
        if (ranks.Count > 0) return (int)ranks[0];
        // Both factors full: any r >= every factor size makes PEFT keep them full.
        return (int)new[] { t["lokr_w1"].shape[0], t["lokr_w1"].shape[1], t["lokr_w2"].shape[0], t["lokr_w2"].shape[1] }.Max();
    }

    public override double KohyaScale(ModuleAdapter module, int rank) => IsDecomposed(module.Tensors) ? base.KohyaScale(module, rank) : 1.0;

    public override AdapterConfig BuildConfig(IReadOnlyList<(ModuleAdapter Module, int Rank, double Alpha)> modules)
    {
        var (r, alpha, rankPattern, alphaPattern, targets) = Common(modules);
        return new LoKrConfig
        {
            R = r, Alpha = alpha, RankPattern = rankPattern, AlphaPattern = alphaPattern, TargetModules = targets, InferenceMode = true,
            DecomposeBoth = modules.Any(m => m.Module.Tensors.ContainsKey("lokr_w1_a")),
            UseEffectiveConv2d = modules.Any(m => m.Module.Tensors.ContainsKey("lokr_t2")),
        };
    }

    public override (IReadOnlyDictionary<string, Tensor> Tensors, double Alpha) ForKohya(AdapterConfig config, string module, IReadOnlyDictionary<string, Tensor> tensors)
    {
        if (IsDecomposed(tensors)) return base.ForKohya(config, module, tensors);
        var folded = new Dictionary<string, Tensor>(tensors, StringComparer.Ordinal) { ["lokr_w2"] = tensors["lokr_w2"].detach().Mul(Scaling(config, module)) };
        return (folded, config.RankFor(module));
    }
}
