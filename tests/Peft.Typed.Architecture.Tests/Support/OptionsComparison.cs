using System.Text.Json;
using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Tests.Support;

/// <summary>
/// Compares a node's class and options with its module_details.json entry: the same keys in the same order and
/// equal values. Python writes 1 and 1.0 for the same hyper-parameter in different places (int/float), so numbers
/// compare by value; booleans, strings, null and integer lists compare exactly.
/// </summary>
public static class OptionsComparison
{
    public static IEnumerable<string> Compare(string path, ModuleNode node, JsonElement expected)
    {
        var expectedClass = expected.GetProperty("class").GetString();
        if (expectedClass != node.ClassName) yield return $"{path}: class {node.ClassName}, expected {expectedClass}";

        var expectedKeys = expected.EnumerateObject().Where(p => p.Name != "class").Select(p => p.Name).ToList();
        var actualKeys = node.Options.Values.Select(v => v.Key).ToList();
        if (!expectedKeys.SequenceEqual(actualKeys))
        {
            yield return $"{path}: keys [{string.Join(", ", actualKeys)}], expected [{string.Join(", ", expectedKeys)}]";
            yield break;
        }
        foreach (var key in expectedKeys)
        {
            var want = expected.GetProperty(key);
            var have = node.Options[key];
            if (!ValueEquals(want, have)) yield return $"{path}.{key}: {Show(have)}, expected {want.GetRawText()}";
        }
    }

    private static bool ValueEquals(JsonElement want, object? have) => want.ValueKind switch
    {
        JsonValueKind.Null => have is null,
        JsonValueKind.True => have is true,
        JsonValueKind.False => have is false,
        JsonValueKind.String => have is string s && s == want.GetString(),
        JsonValueKind.Number => have is long or double && Convert.ToDouble(have) == want.GetDouble(),
        JsonValueKind.Array => have is IReadOnlyList<long> list && list.SequenceEqual(want.EnumerateArray().Select(e => e.GetInt64())),
        _ => false,
    };

    private static string Show(object? value) => value switch
    {
        null => "null",
        IReadOnlyList<long> list => "[" + string.Join(", ", list) + "]",
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
