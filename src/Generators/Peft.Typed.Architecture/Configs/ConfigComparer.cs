using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Text;

namespace Peft.Typed.Architecture.Configs;

/// <summary>
/// Compares two configs option by option (after defaults are applied), so a typed class generated from one
/// config.json can say exactly which keys of another folder's config differ.
/// </summary>
public static class ConfigComparer
{
    /// <summary>Keys that describe how weights were saved, not the architecture.</summary>
    private static readonly HashSet<string> Ignored = new HashSet<string> { "torch_dtype" };

    /// <summary>
    /// Every key whose value differs, in property order; a different model class is the only difference reported
    /// then. <c>torch_dtype</c> is not compared: it records the saved weights' precision.
    /// </summary>
    public static IReadOnlyList<ConfigDifference> Differences(ArchitectureConfig expected, ArchitectureConfig actual)
    {
        if (expected.Kind != actual.Kind)
        {
            var key = expected is ClipTextConfig ? "architectures" : "_class_name";
            return new[] { new ConfigDifference(key, "'" + expected.ClassName + "'", "'" + actual.ClassName + "'") };
        }
        var differences = new List<ConfigDifference>();
        foreach (var property in expected.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var key = KeyOf(property.Name);
            if (Ignored.Contains(key)) continue;
            var a = Format(property.GetValue(expected));
            var b = Format(property.GetValue(actual));
            if (a != b) differences.Add(new ConfigDifference(key, a, b));
        }
        return differences;
    }

    /// <summary>The config.json key of a config property: <c>ActFn</c> is <c>act_fn</c>.</summary>
    public static string KeyOf(string propertyName)
    {
        var key = new StringBuilder(propertyName.Length + 4);
        for (int i = 0; i < propertyName.Length; i++)
        {
            char c = propertyName[i];
            if (char.IsUpper(c))
            {
                if (i > 0) key.Append('_');
                key.Append(char.ToLowerInvariant(c));
            }
            else
            {
                key.Append(c);
            }
        }
        return key.ToString();
    }

    private static string Format(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        string s => "'" + s + "'",
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        ScalarOrList<int> list => list.IsList ? Format(list.Values) : Format(list.ScalarValue),
        ScalarOrList<bool> list => list.IsList ? Format(list.Values) : Format(list.ScalarValue),
        IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Select(Format)) + "]",
        _ => value.ToString() ?? "",
    };
}
