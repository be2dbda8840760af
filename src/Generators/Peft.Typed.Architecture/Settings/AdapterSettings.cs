using System.Collections.Generic;
using System.Globalization;

namespace Peft.Typed.Architecture.Settings;

/// <summary>
/// The value rules of adapter config settings and their wording, shared by the analyzer (PT0014-PT0017, on constants in
/// C# and on values in adapter_config.json files) and the run-time validation of the config classes, so a value reads the
/// same at build time and at run time. Each check returns the whole message, or null when the value is valid. Field names
/// are PEFT's (<c>r</c>, <c>lora_alpha</c>, <c>rank_dropout</c>, ...).
/// </summary>
public static class AdapterSettings
{
    /// <summary>The fields holding a probability: LoRA's <c>lora_dropout</c>, LoHa's/LoKr's <c>rank_dropout</c> and <c>module_dropout</c>.</summary>
    public static readonly IReadOnlyCollection<string> DropoutFields = new[] { "lora_dropout", "rank_dropout", "module_dropout" };

    /// <summary>The fields holding the default alpha: LoRA's <c>lora_alpha</c>, LoHa's/LoKr's <c>alpha</c>.</summary>
    public static readonly IReadOnlyCollection<string> AlphaFields = new[] { "lora_alpha", "alpha" };

    /// <summary>PT0014: "Invalid value for 'r': 0. r must be a positive integer."</summary>
    public static string? Rank(long value) =>
        value > 0 ? null : Invalid("r", Show(value), "r must be a positive integer.");

    /// <summary>PT0014: "Invalid value for 'rank_pattern': {"to_q": 0}. Every rank in rank_pattern must be a positive integer."</summary>
    public static string? PatternRank(string key, long value) =>
        value > 0 ? null : Invalid("rank_pattern", Entry(key, Show(value)), "Every rank in rank_pattern must be a positive integer.");

    /// <summary>PT0015: "Invalid value for 'lora_alpha': 0. lora_alpha must be a positive finite number." (<paramref name="field"/> is <c>lora_alpha</c> or <c>alpha</c>).</summary>
    public static string? Alpha(string field, double value) =>
        IsPositiveFinite(value) ? null : Invalid(field, Show(value), $"{field} must be a positive finite number.");

    /// <summary>PT0015: "Invalid value for 'alpha_pattern': {"to_q": -1}. Every alpha in alpha_pattern must be a positive finite number."</summary>
    public static string? PatternAlpha(string key, double value) =>
        IsPositiveFinite(value) ? null : Invalid("alpha_pattern", Entry(key, Show(value)), "Every alpha in alpha_pattern must be a positive finite number.");

    /// <summary>
    /// PT0016: "Invalid value for 'lora_dropout': 1.5. lora_dropout must be between 0 and 1." 1 itself is allowed, as torch's
    /// dropout allows it (the whole branch is dropped while training: a deterministic setting tests rely on).
    /// </summary>
    public static string? Dropout(string field, double value) =>
        value >= 0 && value <= 1 ? null : Invalid(field, Show(value), $"{field} must be between 0 and 1.");

    /// <summary>PT0017: "Invalid value for 'decompose_factor': 0. decompose_factor must be -1 or a positive integer."</summary>
    public static string? DecomposeFactor(long value) =>
        value == -1 || value >= 1 ? null : Invalid("decompose_factor", Show(value), "decompose_factor must be -1 or a positive integer.");

    /// <summary>"Invalid value for 'r': 0. r must be a positive integer.": the form of every value error.</summary>
    public static string Invalid(string field, string shownValue, string requirement) =>
        $"Invalid value for '{field}': {shownValue}. {requirement}";

    /// <summary>A number as JSON writes it (invariant culture, shortest round-trip form).</summary>
    public static string Show(double value) =>
        double.IsNaN(value) ? "NaN" : double.IsInfinity(value) ? (value > 0 ? "Infinity" : "-Infinity") : value.ToString("R", CultureInfo.InvariantCulture);

    /// <inheritdoc cref="Show(double)"/>
    public static string Show(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Entry(string key, string value) => $"{{\"{key}\": {value}}}";

    private static bool IsPositiveFinite(double value) => value > 0 && !double.IsInfinity(value) && !double.IsNaN(value);
}
