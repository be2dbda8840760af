using System.Text.RegularExpressions;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.LoHa;
using Peft.Typed.Models.Adapters.LoKr;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Training;

namespace Peft.Typed.DreamBooth;

/// <summary>
/// The PEFT script's <c>--unet_*</c> / <c>--te_*</c> arguments of one model as given on the command line, and the
/// adapter config they make. Fields a kind does not use are ignored by it, as in the script.
/// </summary>
internal sealed record AdapterArguments
{
    public int Rank { get; init; } = 8;
    public double Alpha { get; init; } = 8;
    public double Dropout { get; init; }
    public string Bias { get; init; } = "none";
    public double RankDropout { get; init; }
    public double ModuleDropout { get; init; }
    public bool UseEffectiveConv2d { get; init; }
    public bool DecomposeBoth { get; init; }
    public int DecomposeFactor { get; init; } = -1;
    public bool UseDora { get; init; }
    public string TargetModules { get; init; } = "comprehensive";
    public string? ExcludeModules { get; init; }

    private static readonly Regex RegexCharacters = new(@"[\\^$*+?()\[\]{}|]", RegexOptions.CultureInvariant);

    /// <summary>The adapter config; a bad value throws <see cref="DreamBoothOptionException"/> naming <c>--{prefix}_…</c>.</summary>
    /// <param name="prefix"><c>unet</c> or <c>te</c>.</param>
    /// <param name="presets">The seed scripts' minimal and comprehensive lists for this model.</param>
    public AdapterConfig ToConfig(string kind, string prefix, (TargetModules Minimal, TargetModules Comprehensive) presets, bool hasConvolutions)
    {
        Require(Alpha > 0, prefix + "_alpha", Alpha, "must be > 0");
        Require(Dropout is >= 0 and < 1, prefix + "_dropout", Dropout, "must be in [0, 1)");
        Require(RankDropout is >= 0 and < 1, prefix + "_rank_dropout", RankDropout, "must be in [0, 1)");
        Require(ModuleDropout is >= 0 and < 1, prefix + "_module_dropout", ModuleDropout, "must be in [0, 1)");
        var targets = Targets(prefix + "_target_modules", TargetModules, presets);
        var exclude = ExcludeModules is null ? null : Targets(prefix + "_exclude_modules", ExcludeModules, presets: null);
        if (!Kinds.TryGetValue(kind, out var build))
            throw new DreamBoothOptionException("adapter", $"--adapter {kind}: must be one of {string.Join(", ", Kinds.Keys)}");
        var doraOption = DoraOption(prefix);
        if (UseDora && kind != "lora") throw new DreamBoothOptionException(doraOption, $"--{doraOption}: DoRA is a LoRA variant; it needs --adapter lora, not {kind}");
        try
        {
            return build(this, prefix, targets, exclude, hasConvolutions);
        }
        catch (AdapterConfigException e)
        {
            var option = e.Field switch { "lora_alpha" => prefix + "_alpha", "lora_dropout" => prefix + "_dropout", "use_dora" => doraOption, var field => prefix + "_" + field };
            throw new DreamBoothOptionException(option, $"--{option}: {e.Message}");
        }
    }

    /// <summary>The <c>--adapter</c> values and the config each makes from the arguments (a new kind is one entry).</summary>
    private static readonly IReadOnlyDictionary<string, Func<AdapterArguments, string, TargetModules, TargetModules?, bool, AdapterConfig>> Kinds =
        new Dictionary<string, Func<AdapterArguments, string, TargetModules, TargetModules?, bool, AdapterConfig>>(StringComparer.Ordinal)
        {
            // init_lora_weights=True / init_weights=True as in the seed script: the adapter starts as a no-op.
            ["lora"] = (a, prefix, targets, exclude, _) => new LoraConfig
            {
                R = a.Rank,
                LoraAlpha = a.Alpha,
                LoraDropout = a.Dropout,
                Bias = CommandLineNames.Parse<LoraBias>(prefix + "_bias", a.Bias),
                UseDora = a.UseDora,
                TargetModules = targets,
                ExcludeModules = exclude,
            },
            ["loha"] = (a, _, targets, exclude, hasConvolutions) => new LoHaConfig
            {
                R = a.Rank,
                Alpha = a.Alpha,
                RankDropout = a.RankDropout,
                ModuleDropout = a.ModuleDropout,
                // The seed script never passes use_effective_conv2d to the text encoder: it has no convolutions.
                UseEffectiveConv2d = hasConvolutions && a.UseEffectiveConv2d,
                TargetModules = targets,
                ExcludeModules = exclude,
            },
            ["lokr"] = (a, _, targets, exclude, hasConvolutions) => new LoKrConfig
            {
                R = a.Rank,
                Alpha = a.Alpha,
                RankDropout = a.RankDropout,
                ModuleDropout = a.ModuleDropout,
                UseEffectiveConv2d = hasConvolutions && a.UseEffectiveConv2d,
                DecomposeBoth = a.DecomposeBoth,
                DecomposeFactor = a.DecomposeFactor,
                TargetModules = targets,
                ExcludeModules = exclude,
            },
        };

    /// <summary>The DoRA switch of a model: <c>use_dora</c> for the UNet (diffusers' SDXL script), <c>te_use_dora</c> for the text encoders.</summary>
    public static string DoraOption(string prefix) => prefix == "unet" ? "use_dora" : prefix + "_use_dora";

    /// <summary>
    /// PEFT's forms as one argument: a preset name, <c>all-linear</c>, a regex matched against whole module names (a value
    /// with regex characters, as PEFT treats a single string), or a comma-separated list of names / name suffixes.
    /// </summary>
    private static TargetModules Targets(string option, string value, (TargetModules Minimal, TargetModules Comprehensive)? presets)
    {
        var text = value.Trim();
        if (presets is { } p && text == "minimal") return p.Minimal;
        if (presets is { } q && text == "comprehensive") return q.Comprehensive;
        if (presets is not null && string.Equals(text, Architecture.Targeting.TargetModules.AllLinearShorthand, StringComparison.OrdinalIgnoreCase))
            return Architecture.Targeting.TargetModules.AllLinear;
        if (RegexCharacters.IsMatch(text))
        {
            try
            {
                return Architecture.Targeting.TargetModules.FromRegex(text);
            }
            catch (ArgumentException e)
            {
                throw new DreamBoothOptionException(option, $"--{option}: {e.Message.Split(Environment.NewLine)[0]}");
            }
        }
        var names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0) throw new DreamBoothOptionException(option, $"--{option} '{value}': give module names (comma-separated), a regex{(presets is null ? "" : ", minimal or comprehensive")}");
        return Architecture.Targeting.TargetModules.FromNames(names);
    }

    private static void Require(bool ok, string option, object value, string rule)
    {
        if (!ok) throw new DreamBoothOptionException(option, $"--{option} {value}: {rule}");
    }
}
