using Peft.Typed.Models.Adapters.Formats;
using Peft.Typed.Models.Adapters.Formats.Kinds;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Lora;

/// <summary>LoRA: <c>lora_A.weight</c> [r, in(, kh, kw)] and <c>lora_B.weight</c> [out, r(, 1, 1)]; kohya calls them lora_down/lora_up.</summary>
internal sealed class LoraKeys : AdapterKindKeys
{
    public const string A = "lora_A.weight";
    public const string B = "lora_B.weight";

    public override string Type => LoraConfig.PeftTypeName;

    public override IReadOnlyList<string> PeftTensorNames { get; } = [A, B];

    public override IReadOnlyList<string> RequiredTensorNames(IReadOnlyCollection<string> present) => [A, B];

    public override string KohyaTensorName(string peftName) => peftName == A ? "lora_down.weight" : "lora_up.weight";

    public override string? PeftTensorName(string kohyaName) => kohyaName switch
    {
        "lora_down.weight" => A,
        "lora_up.weight" => B,
        _ => null,
    };

    public override int RankOf(ModuleAdapter module, string filePath)
    {
        var down = module.Tensors[A];
        var up = module.Tensors[B];
        if (down.dim() < 2 || up.dim() < 2 || down.shape[0] != up.shape[1] || (up.dim() == 4 && (up.shape[2] != 1 || up.shape[3] != 1)))
            throw new AdapterFormatException(filePath,
                $"'{module.FileName}': the down tensor {Shape(down)} and the up tensor {Shape(up)} do not fit together (down is [r, in(, kh, kw)], up is [out, r(, 1, 1)]: rank {down.shape[0]} vs {(up.dim() < 2 ? "?" : up.shape[1].ToString(System.Globalization.CultureInfo.InvariantCulture))}).",
                [module.FileName]);
        return (int)down.shape[0];
    }

    public override AdapterConfig BuildConfig(IReadOnlyList<(ModuleAdapter Module, int Rank, double Alpha)> modules)
    {
        var (r, alpha, rankPattern, alphaPattern, targets) = Common(modules);
        return new LoraConfig { R = r, LoraAlpha = alpha, RankPattern = rankPattern, AlphaPattern = alphaPattern, TargetModules = targets, InferenceMode = true };
    }

    public override double Scaling(AdapterConfig config, string module) => ((LoraConfig)config).ScalingFor(config.RankFor(module), config.AlphaFor(module));
}
