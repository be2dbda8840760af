using System.Text.Json.Nodes;
using Peft.Typed.Architecture.Settings;

namespace Peft.Typed.Models.Adapters;

/// <summary>Checks and defaults shared by the LyCORIS-style configs (LoHa, LoKr).</summary>
internal static class LycorisChecks
{
    public static double Probability(string field, double value) =>
        AdapterSettings.Dropout(field, value) is { } problem ? throw new AdapterConfigException(field, problem) : value;

    /// <summary>PEFT fields LoHa/LoKr share that this library does not implement, with the value they must keep.</summary>
    public static IReadOnlyDictionary<string, JsonNode?> PassThroughDefaults { get; } = new Dictionary<string, JsonNode?>
    {
        ["layers_pattern"] = null,
        ["layers_to_transform"] = null,
    };
}
