using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Peft.Typed.Architecture.Tree;

/// <summary>
/// A module's hyper-parameters, keyed like module_details.json (<c>in_channels</c>, <c>eps</c>, <c>kernel_size</c>).
/// Values are <see cref="long"/>, <see cref="double"/>, <see cref="bool"/>, <see cref="string"/>, <c>null</c>
/// or <c>IReadOnlyList&lt;long&gt;</c>. Order is insertion order.
/// </summary>
public sealed class ModuleOptions
{
    public static readonly ModuleOptions Empty = new ModuleOptions(new List<KeyValuePair<string, object?>>());

    private readonly List<KeyValuePair<string, object?>> _values;

    public ModuleOptions(IEnumerable<KeyValuePair<string, object?>> values) => _values = values.ToList();

    /// <summary>
    /// Options from (key, value) pairs. <see cref="int"/> values become <see cref="long"/> and <c>int[]</c>
    /// become <c>IReadOnlyList&lt;long&gt;</c>, so every integer reads the same way.
    /// </summary>
    public static ModuleOptions Of(params (string Key, object? Value)[] values)
    {
        var list = new List<KeyValuePair<string, object?>>(values.Length);
        foreach (var (key, value) in values) list.Add(new KeyValuePair<string, object?>(key, Normalize(value)));
        return new ModuleOptions(list);
    }

    private static object? Normalize(object? value) => value switch
    {
        int i => (long)i,
        int[] ints => ints.Select(i => (long)i).ToArray(),
        _ => value,
    };

    public IReadOnlyList<KeyValuePair<string, object?>> Values => _values;

    public bool Contains(string key) => _values.Any(v => v.Key == key);

    public object? this[string key]
    {
        get
        {
            foreach (var v in _values)
            {
                if (v.Key == key) return v.Value;
            }
            throw new KeyNotFoundException($"Module option '{key}' is not set; options: {string.Join(", ", _values.Select(v => v.Key))}.");
        }
    }

    public long GetInt(string key) => Convert.ToInt64(this[key], CultureInfo.InvariantCulture);
    public double GetDouble(string key) => Convert.ToDouble(this[key], CultureInfo.InvariantCulture);
    public bool GetBool(string key) => (bool)this[key]!;
    public string? GetString(string key) => (string?)this[key];
    public IReadOnlyList<long> GetIntList(string key) => (IReadOnlyList<long>)this[key]!;
}
