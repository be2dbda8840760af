using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Typed.Architecture.Targeting;

namespace Peft.Typed.Models.Adapters;

/// <summary>
/// Typed, checked access to the fields of one adapter_config.json object. Every read marks the field as known,
/// so the config can reject fields it does not understand; a wrongly typed value throws naming the field.
/// </summary>
internal sealed class ConfigReader
{
    private readonly JsonObject _json;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public ConfigReader(JsonObject json) => _json = json;

    /// <summary>Fields present in the file that no reader asked for, in file order.</summary>
    public IEnumerable<KeyValuePair<string, JsonNode?>> Unread => _json.Where(kv => !_read.Contains(kv.Key));

    public JsonNode? Raw(string field)
    {
        _read.Add(field);
        return _json.TryGetPropertyValue(field, out var node) ? node : null;
    }

    public int Int(string field, int fallback)
    {
        var node = Raw(field);
        if (node is null) return fallback;
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue(out double d)
            && d == Math.Floor(d) && d >= int.MinValue && d <= int.MaxValue)
            return (int)d;
        throw AdapterConfigException.Invalid(field, new AdapterConfigException.RawJson(node.ToJsonString()), $"{field} must be an integer.");
    }

    public double Number(string field, double fallback)
    {
        var node = Raw(field);
        if (node is null) return fallback;
        return AsNumber(field, node);
    }

    public bool Bool(string field, bool fallback)
    {
        var node = Raw(field);
        if (node is null) return fallback;
        return node.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw AdapterConfigException.Invalid(field, new AdapterConfigException.RawJson(node.ToJsonString()), $"{field} must be true or false."),
        };
    }

    public string? String(string field)
    {
        var node = Raw(field);
        if (node is null) return null;
        if (node.GetValueKind() == JsonValueKind.String) return node.GetValue<string>();
        throw AdapterConfigException.Invalid(field, new AdapterConfigException.RawJson(node.ToJsonString()), $"{field} must be a string or null.");
    }

    /// <summary>A JSON list (names), a string (regex, or "all-linear" when <paramref name="allowAllLinear"/>), or null.</summary>
    public TargetModules? Targets(string field, bool allowAllLinear)
    {
        var node = Raw(field);
        try
        {
            return node switch
            {
                null => null,
                JsonArray array => TargetModules.FromNames(StringItems(field, array)),
                JsonValue value when value.GetValueKind() == JsonValueKind.String =>
                    allowAllLinear ? TargetModules.FromPattern(value.GetValue<string>()) : TargetModules.FromRegex(value.GetValue<string>()),
                _ => throw AdapterConfigException.Invalid(field, new AdapterConfigException.RawJson(node.ToJsonString()), $"{field} must be a list of module names, a regex string or null."),
            };
        }
        catch (ArgumentException e) when (e is not AdapterConfigException)
        {
            throw AdapterConfigException.Invalid(field, new AdapterConfigException.RawJson(node!.ToJsonString()), e.Message);
        }
    }

    public IReadOnlyList<string>? StringList(string field)
    {
        var node = Raw(field);
        return node switch
        {
            null => null,
            JsonArray array => StringItems(field, array),
            _ => throw AdapterConfigException.Invalid(field, new AdapterConfigException.RawJson(node.ToJsonString()), $"{field} must be a list of strings or null."),
        };
    }

    public IReadOnlyList<KeyValuePair<string, int>> IntMap(string field)
    {
        var result = new List<KeyValuePair<string, int>>();
        foreach (var (key, value) in Map(field))
        {
            double d = AsNumber(field, value);
            if (d != Math.Floor(d)) throw AdapterConfigException.Invalid(field, new AdapterConfigException.RawJson($"{{\"{key}\": {value!.ToJsonString()}}}"), $"{field} values must be integers.");
            result.Add(new(key, (int)d));
        }
        return result;
    }

    public IReadOnlyList<KeyValuePair<string, double>> NumberMap(string field) =>
        Map(field).Select(kv => new KeyValuePair<string, double>(kv.Key, AsNumber(field, kv.Value))).ToList();

    private IEnumerable<KeyValuePair<string, JsonNode?>> Map(string field)
    {
        var node = Raw(field);
        return node switch
        {
            null => [],
            JsonObject obj => obj.ToList(),
            _ => throw AdapterConfigException.Invalid(field, new AdapterConfigException.RawJson(node.ToJsonString()), $"{field} must be an object mapping module patterns to numbers."),
        };
    }

    private static double AsNumber(string field, JsonNode? node)
    {
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue(out double d)) return d;
        throw AdapterConfigException.Invalid(field, new AdapterConfigException.RawJson(node?.ToJsonString() ?? "null"), $"{field} must be a number.");
    }

    private static List<string> StringItems(string field, JsonArray array)
    {
        var items = new List<string>(array.Count);
        foreach (var item in array)
        {
            if (item is null || item.GetValueKind() != JsonValueKind.String)
                throw AdapterConfigException.Invalid(field, new AdapterConfigException.RawJson(array.ToJsonString()), $"{field} must contain only strings.");
            items.Add(item.GetValue<string>());
        }
        return items;
    }

    /// <summary>A number as Python's json writes it: integers without a dot, floats with one (<c>8</c>, <c>0.0</c>).</summary>
    public static JsonNode Number(double value, bool asFloat)
    {
        if (!asFloat && value == Math.Floor(value) && Math.Abs(value) < 1e15) return JsonValue.Create((long)value);
        var text = value.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');
        if (!text.Contains('.') && !text.Contains('e')) text += ".0";
        return JsonNode.Parse(text)!;
    }
}
