using System.Text.Json.Nodes;

namespace Peft.Typed.Models.Adapters;

/// <summary>Checks and defaults shared by the LyCORIS-style configs (LoHa, LoKr).</summary>
internal static class LycorisChecks
{
    public static double Probability(string field, double value) =>
        value is >= 0 and <= 1 ? value : throw AdapterConfigException.Invalid(field, value, $"{field} must be between 0 and 1.");

    /// <summary>PEFT fields LoHa/LoKr share that this library does not implement, with the value they must keep.</summary>
    public static IReadOnlyDictionary<string, JsonNode?> PassThroughDefaults { get; } = new Dictionary<string, JsonNode?>
    {
        ["layers_pattern"] = null,
        ["layers_to_transform"] = null,
    };
}
