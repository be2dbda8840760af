using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.LoHa;
using Peft.Typed.Models.Adapters.LoKr;
using Peft.Typed.Models.Adapters.Lora;

namespace Peft.Typed.Training;

/// <summary>Builds the PEFT configs the seed script builds from its <c>--unet_*</c>/<c>--te_*</c> arguments.</summary>
public static class DreamBoothAdapters
{
    public static AdapterConfig UnetConfig(DreamBoothOptions options) =>
        Create(options.Adapter, options.UnetAdapter, TargetModules.FromNames(options.UnetAdapter.Targets == TargetPreset.Minimal ? SeedTargetLists.UnetMinimal : SeedTargetLists.UnetComprehensive), allowEffectiveConv: true);

    public static AdapterConfig TextEncoderConfig(DreamBoothOptions options) =>
        // The seed script never passes use_effective_conv2d to the text encoder: it has no convolutions.
        Create(options.Adapter, options.TextEncoderAdapter, TargetModules.FromNames(options.TextEncoderAdapter.Targets == TargetPreset.Minimal ? SeedTargetLists.TextEncoderMinimal : SeedTargetLists.TextEncoderComprehensive), allowEffectiveConv: false);

    private static AdapterConfig Create(AdapterKind kind, AdapterOptions o, TargetModules targets, bool allowEffectiveConv) => kind switch
    {
        // init_lora_weights=True / init_weights=True as in the seed script: the adapter starts as a no-op.
        AdapterKind.Lora => new LoraConfig
        {
            R = o.Rank,
            LoraAlpha = o.Alpha,
            LoraDropout = o.Dropout,
            Bias = o.Bias switch { "all" => LoraBias.All, "lora_only" => LoraBias.LoraOnly, _ => LoraBias.None },
            TargetModules = targets,
        },
        AdapterKind.LoHa => new LoHaConfig
        {
            R = o.Rank,
            Alpha = o.Alpha,
            RankDropout = o.RankDropout,
            ModuleDropout = o.ModuleDropout,
            UseEffectiveConv2d = allowEffectiveConv && o.UseEffectiveConv2d,
            TargetModules = targets,
        },
        AdapterKind.LoKr => new LoKrConfig
        {
            R = o.Rank,
            Alpha = o.Alpha,
            RankDropout = o.RankDropout,
            ModuleDropout = o.ModuleDropout,
            UseEffectiveConv2d = allowEffectiveConv && o.UseEffectiveConv2d,
            DecomposeBoth = o.DecomposeBoth,
            DecomposeFactor = o.DecomposeFactor,
            TargetModules = targets,
        },
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
