using System;
using System.Collections.Generic;
using System.Linq;

namespace Peft.Typed.Architecture.Configs;

/// <summary>
/// A config value written either as one value for every block (<c>"attention_head_dim": 8</c>) or as a list with
/// one entry per down block (<c>[5, 10, 20, 20]</c>). diffusers indexes the list per down block, uses it
/// reversed for the up blocks and takes the last entry for the mid block; <see cref="ForDownBlock"/>,
/// <see cref="ForUpBlock"/> and <see cref="ForMidBlock"/> apply that rule. Equality is by value.
/// </summary>
public sealed class ScalarOrList<T> : IEquatable<ScalarOrList<T>>
{
    private static readonly EqualityComparer<T> Comparer = EqualityComparer<T>.Default;

    private readonly T _scalar;
    private readonly IReadOnlyList<T>? _list;

    private ScalarOrList(T scalar, IReadOnlyList<T>? list)
    {
        _scalar = scalar;
        _list = list;
    }

    public static ScalarOrList<T> Scalar(T value) => new ScalarOrList<T>(value, null);

    public static ScalarOrList<T> List(IReadOnlyList<T> values) => new ScalarOrList<T>(default!, values.ToArray());

    public static implicit operator ScalarOrList<T>(T value) => Scalar(value);

    public bool IsList => _list is not null;

    /// <summary>The single value; throws when the config holds a list.</summary>
    public T ScalarValue => _list is null ? _scalar : throw new InvalidOperationException($"The value is a list {this}, not a single value.");

    /// <summary>The list as written, or the single value as a one-element list.</summary>
    public IReadOnlyList<T> Values => _list ?? new[] { _scalar };

    /// <summary>The list length, or null for a single value.</summary>
    public int? Count => _list?.Count;

    /// <summary>Entry <paramref name="index"/> of the list, or the single value.</summary>
    public T ForDownBlock(int index) => _list is null ? _scalar : _list[index];

    /// <summary>Entry <paramref name="index"/> of the reversed list, or the single value.</summary>
    public T ForUpBlock(int index) => _list is null ? _scalar : _list[_list.Count - 1 - index];

    /// <summary>The last entry of the list, or the single value.</summary>
    public T ForMidBlock() => _list is null ? _scalar : _list[_list.Count - 1];

    public bool Equals(ScalarOrList<T>? other)
    {
        if (other is null) return false;
        if (_list is null || other._list is null) return _list is null && other._list is null && Comparer.Equals(_scalar, other._scalar);
        return _list.SequenceEqual(other._list, Comparer);
    }

    public override bool Equals(object? obj) => obj is ScalarOrList<T> other && Equals(other);

    public override int GetHashCode() =>
        _list is null ? Comparer.GetHashCode(_scalar!) : _list.Aggregate(17, (hash, item) => unchecked(hash * 31 + Comparer.GetHashCode(item!)));

    /// <summary>As JSON would write it: <c>8</c> or <c>[5, 10, 20]</c> (booleans lower-case).</summary>
    public override string ToString() => _list is null ? Format(_scalar) : "[" + string.Join(", ", _list.Select(Format)) + "]";

    private static string Format(T value) => value switch
    {
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value?.ToString() ?? "null",
    };
}
