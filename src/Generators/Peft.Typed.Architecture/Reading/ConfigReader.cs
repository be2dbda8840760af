using System.Collections.Generic;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Diagnostics;
using Peft.Typed.Architecture.Json;

namespace Peft.Typed.Architecture.Reading;

/// <summary>
/// Reads typed options from a config's top-level object. A missing key gives the default; a value of the wrong
/// JSON type is reported at that value and the default is used, so one pass reports every such error.
/// Remembers which keys were read so the rest can be reported as unknown.
/// </summary>
internal sealed class ConfigReader
{
    private readonly ConfigSource _source;
    private readonly List<ArchitectureDiagnostic> _diagnostics;
    private readonly HashSet<string> _read = new HashSet<string>();

    public ConfigReader(ConfigSource source, List<ArchitectureDiagnostic> diagnostics)
    {
        _source = source;
        _diagnostics = diagnostics;
    }

    public int Int(string key, int fallback) => Read(key, fallback, ToInt, "an integer");

    public int? NullableInt(string key, int? fallback) => Read(key, fallback, v => v is JsonNull ? Found((int?)null) : Converted(ToInt(v)), "an integer or null");

    public double Double(string key, double fallback) => Read(key, fallback, ToDouble, "a number");

    public bool Bool(string key, bool fallback) => Read(key, fallback, ToBool, "true or false");

    public bool? NullableBool(string key, bool? fallback) => Read(key, fallback, v => v is JsonNull ? Found((bool?)null) : Converted(ToBool(v)), "true, false or null");

    public string String(string key, string fallback) => Read(key, fallback, ToString, "a string");

    public string? NullableString(string key, string? fallback) => Read(key, fallback, v => v is JsonNull ? Found((string?)null) : Converted(ToString(v)), "a string or null");

    public IReadOnlyList<int> IntList(string key, IReadOnlyList<int> fallback) => ReadList(key, fallback, ToInt, "an integer");

    public IReadOnlyList<string> StringList(string key, IReadOnlyList<string> fallback) => ReadList(key, fallback, ToString, "a string");

    public IReadOnlyList<double>? NullableDoubleList(string key) =>
        Find(key) is { Value: JsonNull } or null ? null : ReadList<double>(key, new double[0], ToDouble, "a number");

    /// <summary>A nested list such as <c>[[1, 2], [3]]</c>, or null.</summary>
    public IReadOnlyList<IReadOnlyList<int>>? NullableIntListList(string key)
    {
        var property = Find(key);
        if (property is null || property.Value is JsonNull) return null;
        if (property.Value is not JsonArray array)
        {
            TypeError(key, "a list of integer lists or null", property.Value);
            return null;
        }
        var result = new List<IReadOnlyList<int>>();
        for (var i = 0; i < array.Items.Count; i++)
        {
            var itemKey = $"{key}[{i}]";
            if (array.Items[i] is JsonArray inner) result.Add(ReadItems(itemKey, inner, ToInt, "an integer") ?? new int[0]);
            else TypeError(itemKey, "a list of integers", array.Items[i]);
        }
        return result;
    }

    public ScalarOrList<int> IntOrList(string key, ScalarOrList<int> fallback) => ReadScalarOrList(key, fallback, ToInt, "an integer")!;

    public ScalarOrList<int>? NullableIntOrList(string key) =>
        Find(key) is { Value: JsonNull } or null ? null : ReadScalarOrList<int>(key, null, ToInt, "an integer");

    public ScalarOrList<bool> BoolOrList(string key, ScalarOrList<bool> fallback) => ReadScalarOrList(key, fallback, ToBool, "true or false")!;

    /// <summary>Warns about keys nobody read; keys starting with '_' are diffusers metadata (<c>_diffusers_version</c>).</summary>
    public void WarnAboutUnknownKeys(string className)
    {
        foreach (var property in _source.Root.Properties)
        {
            if (property.Name.StartsWith("_", System.StringComparison.Ordinal) || _read.Contains(property.Name)) continue;
            _diagnostics.Add(new ArchitectureDiagnostic(
                ArchitectureDiagnosticCode.UnknownOption,
                ArchitectureSeverity.Warning,
                $"Unknown option '{property.Name}' for {className}; diffusers 0.27.2 ignores it, and so does Peft.Typed.",
                _source.FilePath,
                property.NameSpan));
        }
    }

    private JsonProperty? Find(string key)
    {
        _read.Add(key);
        return _source.Root.Find(key);
    }

    private T Read<T>(string key, T fallback, System.Func<JsonValue, Conversion<T>> convert, string expected)
    {
        var property = Find(key);
        if (property is null) return fallback;
        var result = convert(property.Value);
        if (result.Ok) return result.Value;
        TypeError(key, expected, property.Value);
        return fallback;
    }

    private IReadOnlyList<T> ReadList<T>(string key, IReadOnlyList<T> fallback, System.Func<JsonValue, Conversion<T>> convert, string itemExpected)
    {
        var property = Find(key);
        if (property is null) return fallback;
        if (property.Value is JsonArray array) return ReadItems(key, array, convert, itemExpected) ?? fallback;
        TypeError(key, $"a list of {Plural(itemExpected)}", property.Value);
        return fallback;
    }

    private ScalarOrList<T>? ReadScalarOrList<T>(string key, ScalarOrList<T>? fallback, System.Func<JsonValue, Conversion<T>> convert, string expected)
    {
        var property = Find(key);
        if (property is null) return fallback;
        if (property.Value is JsonArray array)
        {
            var items = ReadItems(key, array, convert, expected);
            return items is null ? fallback : ScalarOrList<T>.List(items);
        }
        var scalar = convert(property.Value);
        if (scalar.Ok) return ScalarOrList<T>.Scalar(scalar.Value);
        TypeError(key, $"{expected} or a list of {Plural(expected)}", property.Value);
        return fallback;
    }

    /// <summary>The converted items, or null when any item has the wrong type (each one is reported).</summary>
    private IReadOnlyList<T>? ReadItems<T>(string key, JsonArray array, System.Func<JsonValue, Conversion<T>> convert, string expected)
    {
        var items = new T[array.Items.Count];
        var ok = true;
        for (var i = 0; i < items.Length; i++)
        {
            var item = convert(array.Items[i]);
            if (item.Ok)
            {
                items[i] = item.Value;
            }
            else
            {
                TypeError($"{key}[{i}]", expected, array.Items[i]);
                ok = false;
            }
        }
        return ok ? items : null;
    }

    private void TypeError(string what, string expected, JsonValue found) =>
        _diagnostics.Add(new ArchitectureDiagnostic(
            ArchitectureDiagnosticCode.InvalidOptionType,
            ArchitectureSeverity.Error,
            $"'{what}' must be {expected}; found {found.Describe()}.",
            _source.FilePath,
            found.Span));

    private static string Plural(string expected) => expected switch
    {
        "an integer" => "integers",
        "a number" => "numbers",
        "a string" => "strings",
        _ => "true/false values",
    };

    private static Conversion<int> ToInt(JsonValue value) =>
        value is JsonNumber number && number.TryGetInt64(out var n) && n >= int.MinValue && n <= int.MaxValue
            ? Found((int)n)
            : default;

    private static Conversion<double> ToDouble(JsonValue value) => value is JsonNumber number ? Found(number.ToDouble()) : default;

    private static Conversion<bool> ToBool(JsonValue value) => value is JsonBoolean boolean ? Found(boolean.Value) : default;

    private static Conversion<string> ToString(JsonValue value) => value is JsonString text ? Found(text.Value) : default;

    private static Conversion<T> Found<T>(T value) => new Conversion<T>(true, value);

    private static Conversion<T?> Converted<T>(Conversion<T> conversion) where T : struct =>
        conversion.Ok ? new Conversion<T?>(true, conversion.Value) : default;

    private static Conversion<string?> Converted(Conversion<string> conversion) =>
        conversion.Ok ? new Conversion<string?>(true, conversion.Value) : default;

    private readonly struct Conversion<T>
    {
        public Conversion(bool ok, T value)
        {
            Ok = ok;
            Value = value;
        }

        public bool Ok { get; }
        public T Value { get; }
    }
}
