using System;
using System.Collections.Generic;
using System.Linq;

namespace Peft.Typed.Architecture.Targeting;

/// <summary>
/// Sub-trees of one model that a <see cref="TargetSet"/> can be restricted to (<see cref="TargetSet.Within"/>) or
/// excluded from: every <c>attn2</c>, the <c>down_blocks</c> list, or one element of it (<c>scope[1]</c>).
/// </summary>
public sealed class ModuleScope : IEquatable<ModuleScope>
{
    private readonly int[] _members;

    internal ModuleScope(ModuleCatalog catalog, int[] members)
    {
        Catalog = catalog;
        _members = members;
    }

    public ModuleCatalog Catalog { get; }

    /// <summary>The qualified names of the sub-tree roots.</summary>
    public IReadOnlyList<string> Paths => _members.Select(i => Catalog.Modules[i].Name).ToArray();

    /// <summary>
    /// Element <paramref name="index"/> of each list in the scope: <c>DownBlocks[1]</c> is <c>down_blocks.1</c>,
    /// <c>Attentions[0]</c> every <c>attentions.0</c>. Throws when no list of the scope has that element.
    /// </summary>
    public ModuleScope this[int index]
    {
        get
        {
            var segment = ModuleCatalog.FormatIndex(index);
            var members = _members
                .SelectMany(m => Catalog.ChildrenOf(m))
                .Where(c => ModuleCatalog.LastSegment(Catalog.Modules[c].Name) == segment)
                .ToArray();
            if (members.Length == 0)
            {
                var sizes = string.Join(", ", _members.Select(m => $"{Catalog.Describe(m)} has {Catalog.ChildrenOf(m).Count(c => ModuleCatalog.IsIndex(ModuleCatalog.LastSegment(Catalog.Modules[c].Name)))}"));
                throw new ArgumentOutOfRangeException(nameof(index), index, $"No element {index} in {Catalog.ModelName}: {sizes}.");
            }
            return new ModuleScope(Catalog, members);
        }
    }

    /// <summary>The sub-trees of either scope.</summary>
    public ModuleScope Union(ModuleScope other)
    {
        if (!ReferenceEquals(other.Catalog, Catalog))
            throw new ArgumentException($"Cannot combine scopes of {Catalog.ModelName} with scopes of {other.Catalog.ModelName}.", nameof(other));
        return new ModuleScope(Catalog, _members.Union(other._members).OrderBy(i => i).ToArray());
    }

    public static ModuleScope operator |(ModuleScope left, ModuleScope right) => left.Union(right);

    /// <summary>True when the module at <paramref name="moduleName"/> is a sub-tree root of this scope or lies below one.</summary>
    public bool Covers(string moduleName)
    {
        int i = Catalog.IndexOf(moduleName);
        return i >= 0 && Covers(i);
    }

    internal bool Covers(int index) => _members.Any(m => Catalog.IsWithin(index, m));

    public bool Equals(ModuleScope? other) => other is not null && ReferenceEquals(Catalog, other.Catalog) && _members.SequenceEqual(other._members);

    public override bool Equals(object? obj) => Equals(obj as ModuleScope);

    public override int GetHashCode() => _members.Aggregate(_members.Length, (hash, i) => unchecked(hash * 31 + i));

    public override string ToString() => _members.Length == 1 ? Paths[0] : $"{_members.Length} sub-trees: {string.Join(", ", Paths.Take(4))}{(_members.Length > 4 ? ", ..." : "")}";
}
