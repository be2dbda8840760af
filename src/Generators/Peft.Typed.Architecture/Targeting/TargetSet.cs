using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace Peft.Typed.Architecture.Targeting;

/// <summary>
/// A set of modules of one model (<see cref="Catalog"/>) to adapt: built from typed selectors, presets, PEFT-style
/// names or a regex, and composed with <c>|</c> (union), <c>&amp;</c> (intersection), <c>-</c> (exclusion) and
/// <see cref="Within"/> (restriction to sub-trees). It converts to PEFT's <see cref="TargetModules"/> for an adapter
/// config; the conversion writes the shortest form that selects exactly these modules.
/// </summary>
public sealed class TargetSet : IReadOnlyCollection<ModuleEntry>, IEquatable<TargetSet>
{
    private static readonly UnmatchedTarget[] NoUnmatched = new UnmatchedTarget[0];

    private readonly int[] _indices;

    internal TargetSet(ModuleCatalog catalog, int[] sortedIndices, IReadOnlyList<UnmatchedTarget>? unmatched = null)
    {
        Catalog = catalog;
        _indices = sortedIndices;
        Unmatched = unmatched ?? NoUnmatched;
    }

    /// <summary>The model the modules belong to.</summary>
    public ModuleCatalog Catalog { get; }

    public int Count => _indices.Length;

    public bool IsEmpty => _indices.Length == 0;

    /// <summary>The qualified module names, in registration order.</summary>
    public IReadOnlyList<string> Names => _indices.Select(i => Catalog.Modules[i].Name).ToArray();

    /// <summary>List entries given to <see cref="ModuleCatalog.Named"/> or a preset that matched no module (PEFT ignores them silently).</summary>
    public IReadOnlyList<UnmatchedTarget> Unmatched { get; }

    internal IReadOnlyList<int> Indices => _indices;

    public bool Contains(string moduleName)
    {
        int i = Catalog.IndexOf(moduleName);
        return i >= 0 && Array.BinarySearch(_indices, i) >= 0;
    }

    /// <summary>The modules of either set.</summary>
    public TargetSet Union(TargetSet other) => Combine(other, (a, b) => a || b);

    /// <summary>The modules of both sets.</summary>
    public TargetSet Intersect(TargetSet other) => Combine(other, (a, b) => a && b);

    /// <summary>The modules of this set that are not in <paramref name="other"/>.</summary>
    public TargetSet Except(TargetSet other) => Combine(other, (a, b) => a && !b);

    /// <summary>The modules of this set that lie inside <paramref name="scope"/> (one of its modules or below one).</summary>
    public TargetSet Within(ModuleScope scope)
    {
        CheckSameModel(scope.Catalog);
        return new TargetSet(Catalog, _indices.Where(scope.Covers).ToArray());
    }

    /// <summary>The modules of this set that lie outside <paramref name="scope"/>.</summary>
    public TargetSet Except(ModuleScope scope)
    {
        CheckSameModel(scope.Catalog);
        return new TargetSet(Catalog, _indices.Where(i => !scope.Covers(i)).ToArray());
    }

    public static TargetSet operator |(TargetSet left, TargetSet right) => left.Union(right);

    public static TargetSet operator &(TargetSet left, TargetSet right) => left.Intersect(right);

    public static TargetSet operator -(TargetSet left, TargetSet right) => left.Except(right);

    /// <summary>
    /// PEFT's <c>target_modules</c> selecting exactly these modules: the list of their leaf names when that list
    /// selects nothing else (<c>["to_q", "to_v"]</c>), else the list of their qualified names, else an exact regex.
    /// Throws for an empty set, which PEFT would reject.
    /// </summary>
    public TargetModules ToTargetModules()
    {
        if (IsEmpty) throw new InvalidOperationException($"The target set selects no module of {Catalog.ModelName}; an adapter needs at least one target.");
        var leafNames = _indices.Select(i => Catalog.LeafNameOf(Catalog.Modules[i].Name) ?? Catalog.Modules[i].Name).Distinct(StringComparer.Ordinal).ToArray();
        var byLeaf = TargetModules.FromNames(leafNames);
        if (SelectsExactly(byLeaf)) return byLeaf.SelectedIn(Catalog);
        var byName = TargetModules.FromNames(Names);
        if (SelectsExactly(byName)) return byName.SelectedIn(Catalog);
        return TargetModules.FromRegex(string.Join("|", Names.Select(Regex.Escape))).SelectedIn(Catalog);
    }

    public static implicit operator TargetModules(TargetSet set) => set.ToTargetModules();

    public IEnumerator<ModuleEntry> GetEnumerator() => _indices.Select(i => Catalog.Modules[i]).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(TargetSet? other) => other is not null && ReferenceEquals(Catalog, other.Catalog) && _indices.SequenceEqual(other._indices);

    public override bool Equals(object? obj) => Equals(obj as TargetSet);

    public override int GetHashCode() => _indices.Aggregate(Count, (hash, i) => unchecked(hash * 31 + i));

    /// <summary>"12 modules of Sd15Unet (12 Linear): ['to_q']".</summary>
    public override string ToString()
    {
        if (IsEmpty) return $"no module of {Catalog.ModelName}";
        var kinds = string.Join(", ", this.GroupBy(m => m.Kind).Select(g => $"{g.Count()} {g.Key}"));
        return $"{Count} module{(Count == 1 ? "" : "s")} of {Catalog.ModelName} ({kinds}): {ToTargetModules()}";
    }

    private bool SelectsExactly(TargetModules targets) => Catalog.Select(targets).Indices.SequenceEqual(_indices);

    private TargetSet Combine(TargetSet other, Func<bool, bool, bool> keep)
    {
        if (other is null) throw new ArgumentNullException(nameof(other));
        CheckSameModel(other.Catalog);
        var result = new List<int>();
        int a = 0, b = 0;
        while (a < _indices.Length || b < other._indices.Length)
        {
            int next = Math.Min(a < _indices.Length ? _indices[a] : int.MaxValue, b < other._indices.Length ? other._indices[b] : int.MaxValue);
            bool inLeft = a < _indices.Length && _indices[a] == next;
            bool inRight = b < other._indices.Length && other._indices[b] == next;
            if (keep(inLeft, inRight)) result.Add(next);
            if (inLeft) a++;
            if (inRight) b++;
        }
        return new TargetSet(Catalog, result.ToArray());
    }

    private void CheckSameModel(ModuleCatalog catalog)
    {
        if (!ReferenceEquals(catalog, Catalog))
            throw new ArgumentException($"Cannot combine targets of {Catalog.ModelName} with targets of {catalog.ModelName}: a target set belongs to one model.");
    }
}
