using Peft.Typed.Models.Adapters.Formats;
using Peft.Typed.Models.Adapters.Formats.Kinds;

namespace Peft.Typed.Models.Adapters.LoHa;

/// <summary>LoHa: <c>hada_w1_a/w1_b/w2_a/w2_b</c> (+ <c>hada_t1/t2</c> in Tucker form), named alike by PEFT and LyCORIS.</summary>
internal sealed class LoHaKeys : AdapterKindKeys
{
    public override string Type => LoHaConfig.PeftTypeName;

    public override IReadOnlyList<string> PeftTensorNames { get; } = ["hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b", "hada_t1", "hada_t2"];

    public override IReadOnlyList<string> RequiredTensorNames(IReadOnlyCollection<string> present) =>
        present.Contains("hada_t1") || present.Contains("hada_t2")
            ? ["hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b", "hada_t1", "hada_t2"]
            : ["hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b"];

    public override int RankOf(ModuleAdapter module, string filePath)
    {
        var t = module.Tensors;
        long r = t["hada_w1_b"].shape[0];
        bool tucker = t.ContainsKey("hada_t1");
        var ranks = tucker
            ? new[] { t["hada_w1_a"].shape[0], t["hada_w2_a"].shape[0], t["hada_w2_b"].shape[0], t["hada_t1"].shape[0], t["hada_t2"].shape[0] }
            : new[] { t["hada_w1_a"].shape[^1], t["hada_w2_a"].shape[^1], t["hada_w2_b"].shape[0] };
        if (ranks.Any(x => x != r))
            throw new AdapterFormatException(filePath,
                $"'{module.FileName}': the LoHa tensors disagree on the rank ({string.Join(", ", module.Tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {Shape(kv.Value)}"))}).",
                [module.FileName]);
        return (int)r;
    }

    public override AdapterConfig BuildConfig(IReadOnlyList<(ModuleAdapter Module, int Rank, double Alpha)> modules)
    {
        var (r, alpha, rankPattern, alphaPattern, targets) = Common(modules);
        return new LoHaConfig
        {
            R = r, Alpha = alpha, RankPattern = rankPattern, AlphaPattern = alphaPattern, TargetModules = targets, InferenceMode = true,
            UseEffectiveConv2d = modules.Any(m => m.Module.Tensors.ContainsKey("hada_t1")),
        };
    }
}
