using System.Collections.Generic;
using System.Linq;

namespace Peft.Typed.Architecture.Targeting;

/// <summary>
/// The wording of every target problem, shared by the analyzer's diagnostics (PT0001, PT0002, PT0003, PT0005) and the
/// run-time checks of the trainer, so a target means the same and reads the same at build time and at start-up.
/// </summary>
public static class TargetMessages
{
    /// <summary>PT0001: "'to_qq' matches no module of Sd15Unet; did you mean 'to_q'?"</summary>
    public static string UnknownName(string entry, string model, string? suggestion) =>
        $"'{entry}' matches no module of {model}{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")}";

    /// <summary>PT0013 (or PT0001 when no entry matches): "'query' matches no module of Sd15Unet: diffusers renamed the attention projection 'query' to 'to_q'"</summary>
    public static string Renamed(string entry, string model, string renamedTo) =>
        $"'{entry}' matches no module of {model}: {LegacyAttentionNames.Explain(entry, renamedTo)}";

    /// <summary>The message for a list entry that names no module: <see cref="Renamed"/> or <see cref="UnknownName"/>.</summary>
    public static string Unmatched(UnmatchedTarget target, string model) =>
        target.RenamedTo is { } renamed ? Renamed(target.Entry, model, renamed) : UnknownName(target.Entry, model, target.Suggestion);

    /// <summary>PT0002: "The regex 'x' matches no module of Sd15Unet"</summary>
    public static string RegexMatchesNothing(string pattern, string model) => $"The regex '{pattern}' matches no module of {model}";

    /// <summary>PT0003: "'norm1' selects 12 GroupNorm modules of Sd15Unet, which LoRA cannot wrap; adapters wrap Linear and Conv2d layers"</summary>
    public static string Unwrappable(string entry, string selected, string model, string adapter) =>
        $"'{entry}' selects {selected} of {model}, which {adapter} cannot wrap; adapters wrap Linear and Conv2d layers";

    /// <summary>PT0005: "The target set selects no module of Sd15Unet: no entry of the list matches"</summary>
    public static string EmptySet(string model, string detail) => $"The target set selects no module of {model}{detail}";

    /// <summary>"3 GroupNorm modules, 1 Attention module": the modules of <paramref name="modules"/> an adapter cannot wrap, by class.</summary>
    public static string? UnwrappableModules(IEnumerable<ModuleEntry> modules)
    {
        var kinds = modules.Where(m => !ModuleCatalog.IsAdaptableKind(m.Kind)).GroupBy(m => m.Kind).ToList();
        return kinds.Count == 0 ? null : string.Join(", ", kinds.Select(g => $"{g.Count()} {g.Key} module{(g.Count() == 1 ? "" : "s")}"));
    }

    /// <summary>The adapter a config type names in messages (<c>LoraConfig</c> → LoRA).</summary>
    public static string AdapterName(string? configTypeName) => configTypeName switch
    {
        "LoraConfig" => "LoRA",
        "LoHaConfig" => "LoHa",
        "LoKrConfig" => "LoKr",
        _ => "an adapter",
    };
}
