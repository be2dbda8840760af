using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Peft.Typed.Architecture.Configs;

namespace Peft.Typed.Architecture.Tests.Support;

/// <summary>
/// Maps config.json keys to the typed config's properties by the documented rule (snake_case key, PascalCase
/// property: <c>act_fn</c> is <c>ActFn</c>) and writes values in one canonical form for comparison.
/// </summary>
public static class ConfigProperties
{
    public static string PropertyName(string key) =>
        string.Concat(key.Split('_').Select(part => char.ToUpperInvariant(part[0]) + part[1..]));

    /// <summary>The public read/write properties: one per config key.</summary>
    public static IReadOnlyList<PropertyInfo> OptionProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToList();

    /// <summary>A JSON value written canonically (numbers as doubles, lists in brackets).</summary>
    public static string Canonical(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => "null",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.String => "'" + value.GetString() + "'",
        JsonValueKind.Number => Number(value.GetDouble()),
        JsonValueKind.Array => "[" + string.Join(", ", value.EnumerateArray().Select(Canonical)) + "]",
        _ => value.GetRawText(),
    };

    /// <summary>A property value written in the same canonical form as <see cref="Canonical(JsonElement)"/>.</summary>
    public static string Canonical(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        string s => "'" + s + "'",
        int i => Number(i),
        double d => Number(d),
        ScalarOrList<int> list => list.IsList ? Canonical(list.Values) : Number(list.ScalarValue),
        ScalarOrList<bool> list => list.IsList ? Canonical(list.Values) : Canonical(list.ScalarValue),
        IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Select(Canonical)) + "]",
        _ => value.ToString() ?? "",
    };

    private static string Number(double d) => d.ToString("R", CultureInfo.InvariantCulture);
}
