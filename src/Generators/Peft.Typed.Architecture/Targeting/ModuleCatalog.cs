using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Targeting;

/// <summary>
/// The modules of one model (qualified name and class, registration order) with the structure targeting needs:
/// parents, children, adaptable leaves, leaf names and scope names. Built from a <see cref="ModuleTree"/> or from
/// the module list a generated typed class carries. Every <see cref="TargetSet"/> and <see cref="ModuleScope"/>
/// belongs to one catalog; matching itself is <see cref="TargetSelector"/>'s, so names mean what they mean to PEFT.
/// </summary>
public sealed class ModuleCatalog
{
    /// <summary>The module classes LoRA, LoHa and LoKr wrap.</summary>
    public static readonly IReadOnlyCollection<string> AdaptableKinds = new[] { "Linear", "Conv2d" };

    private readonly Dictionary<string, int> _index;
    private readonly int[] _parent;
    private readonly int[][] _children;
    private readonly string?[] _leafNames;
    private readonly IReadOnlyList<string> _distinctLeafNames;
    private readonly IReadOnlyList<string> _scopeNames;

    /// <param name="modelName">Names the model in messages (the typed class, e.g. <c>Sd15Unet</c>).</param>
    /// <param name="modules">Every module in registration order; the root ("") may be included.</param>
    public ModuleCatalog(string modelName, IReadOnlyList<ModuleEntry> modules)
    {
        ModelName = modelName ?? throw new ArgumentNullException(nameof(modelName));
        Modules = modules ?? throw new ArgumentNullException(nameof(modules));
        _index = new Dictionary<string, int>(modules.Count, StringComparer.Ordinal);
        for (int i = 0; i < modules.Count; i++)
        {
            if (_index.ContainsKey(modules[i].Name)) throw new ArgumentException($"Module '{modules[i].Name}' is listed twice in {modelName}.", nameof(modules));
            _index.Add(modules[i].Name, i);
        }

        _parent = new int[modules.Count];
        var children = new List<int>[modules.Count];
        for (int i = 0; i < modules.Count; i++)
        {
            children[i] = new List<int>();
            var name = modules[i].Name;
            if (name.Length == 0)
            {
                _parent[i] = -1;
                continue;
            }
            int dot = name.LastIndexOf('.');
            _parent[i] = _index.TryGetValue(dot < 0 ? "" : name.Substring(0, dot), out var parent) ? parent : -1;
            if (_parent[i] < 0 && dot >= 0) throw new ArgumentException($"Module '{name}' of {modelName} has no parent module in the list.", nameof(modules));
        }
        for (int i = 0; i < modules.Count; i++)
        {
            if (_parent[i] >= 0) children[_parent[i]].Add(i);
        }
        _children = children.Select(c => c.ToArray()).ToArray();

        _leafNames = new string?[modules.Count];
        var distinct = new List<string>();
        for (int i = 0; i < modules.Count; i++)
        {
            if (!IsAdaptable(i)) continue;
            var leaf = ComputeLeafName(i);
            _leafNames[i] = leaf;
            if (!distinct.Contains(leaf)) distinct.Add(leaf);
        }
        _distinctLeafNames = distinct;
        _scopeNames = ComputeScopeNames();

        All = new TargetSet(this, Enumerable.Range(0, modules.Count).Where(IsAdaptable).ToArray());
    }

    /// <summary>
    /// A catalog from the compact listing generated classes carry: the root's class, then one module per line,
    /// <c>qualified.name ClassName</c>, in registration order.
    /// </summary>
    public static ModuleCatalog FromListing(string modelName, string rootClassName, string listing)
    {
        var modules = new List<ModuleEntry> { new ModuleEntry("", rootClassName) };
        foreach (var raw in listing.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0) continue;
            int space = line.IndexOf(' ');
            if (space <= 0 || space != line.LastIndexOf(' '))
                throw new ArgumentException($"Module listing line '{line}' of {modelName} is not 'qualified.name ClassName'.", nameof(listing));
            modules.Add(new ModuleEntry(line.Substring(0, space), line.Substring(space + 1)));
        }
        return new ModuleCatalog(modelName, modules);
    }

    /// <summary>A catalog of every module of <paramref name="tree"/>, root included.</summary>
    public static ModuleCatalog FromTree(string modelName, ModuleTree tree) =>
        new ModuleCatalog(modelName, tree.Modules.Select(m => new ModuleEntry(m.Path, m.ClassName)).ToArray());

    /// <summary>The model's name in messages.</summary>
    public string ModelName { get; }

    /// <summary>Every module in registration order, with its class.</summary>
    public IReadOnlyList<ModuleEntry> Modules { get; }

    /// <summary>Every Linear and Conv2d module.</summary>
    public TargetSet All { get; }

    /// <summary>
    /// The distinct leaf names of the adaptable modules, in registration order of their first module
    /// (<c>conv_in</c>, <c>linear_1</c>, ..., <c>to_q</c>, <c>to_out.0</c>, <c>ff.net.0.proj</c>, ...). See <see cref="LeafNameOf"/>.
    /// </summary>
    public IReadOnlyList<string> LeafNames => _distinctLeafNames;

    /// <summary>
    /// Names of the sub-trees a target set can be restricted to: the last segment of every module that has
    /// children, holds at least one adaptable module, and is neither a list index nor a list whose indices have
    /// their own roles (<c>to_out</c>, <c>ff.net</c>): <c>down_blocks</c>, <c>attentions</c>, <c>attn2</c>, <c>layers</c>, <c>mlp</c>, ...
    /// </summary>
    public IReadOnlyList<string> ScopeNames => _scopeNames;

    /// <summary>The index of the module at <paramref name="path"/>, or -1.</summary>
    public int IndexOf(string path) => _index.TryGetValue(path, out var i) ? i : -1;

    /// <summary>True when the catalog lists a module at <paramref name="path"/>.</summary>
    public bool Contains(string path) => _index.ContainsKey(path);

    /// <summary>The number of direct children of the module at <paramref name="path"/> (0 when absent).</summary>
    public int ChildCount(string path) => _index.TryGetValue(path, out var i) ? _children[i].Length : 0;

    /// <summary>True for Linear and Conv2d, the classes adapters wrap.</summary>
    public static bool IsAdaptableKind(string kind) => kind == "Linear" || kind == "Conv2d";

    /// <summary>
    /// The name PEFT users give a Linear/Conv2d module: its last path segment, extended to the left over list
    /// indices and over parents that have no other child. So <c>…attn1.to_q</c> is <c>to_q</c>, <c>…attn1.to_out.0</c>
    /// is <c>to_out.0</c>, <c>…ff.net.0.proj</c> is <c>ff.net.0.proj</c> (GEGLU and FeedForward each hold one child) and
    /// <c>…downsamplers.0.conv</c> is <c>downsamplers.0.conv</c>. Null for a module that is not adaptable.
    /// </summary>
    public string? LeafNameOf(string path) => _index.TryGetValue(path, out var i) ? _leafNames[i] : null;

    /// <summary>
    /// What PEFT selects for <paramref name="targets"/> (any module class; exclusions none), with the list entries
    /// that match nothing and their suggestions. Never throws; the result may be empty.
    /// </summary>
    public TargetSet Select(TargetModules targets)
    {
        if (targets is null) throw new ArgumentNullException(nameof(targets));
        var selection = TargetSelector.Select(Modules, targets, null, null, AdaptableKinds);
        var indices = selection.Targeted.Concat(selection.Unsupported).Select(m => _index[m.Name]).Distinct().OrderBy(i => i).ToArray();
        return new TargetSet(this, indices, selection.Unmatched);
    }

    /// <summary>
    /// The modules PEFT's list <c>target_modules=[names]</c> selects (a whole name or a <c>.name</c> suffix, any class).
    /// Entries that match nothing are kept in <see cref="TargetSet.Unmatched"/>; when nothing matches at all it throws,
    /// naming each entry with the closest valid name.
    /// </summary>
    public TargetSet Named(IEnumerable<string> names)
    {
        var set = Select(TargetModules.FromNames(names));
        if (set.IsEmpty)
            throw new ArgumentException($"No module of {ModelName} matches the list: {string.Join(" ", set.Unmatched.Select(u => u.Message))}", nameof(names));
        return set;
    }

    /// <summary>
    /// The modules PEFT's string <c>target_modules="pattern"</c> selects: a regex that must match a whole name, or
    /// "all-linear". Throws for a malformed regex or one that matches no module.
    /// </summary>
    public TargetSet Matching(string pattern)
    {
        var set = Select(TargetModules.FromPattern(pattern));
        if (set.IsEmpty) throw new ArgumentException($"The regex '{pattern}' matches no module of {ModelName}.", nameof(pattern));
        return set;
    }

    /// <summary>The adaptable modules selected by the list entries <paramref name="names"/> (a preset); dead entries are kept in <see cref="TargetSet.Unmatched"/>.</summary>
    public TargetSet Preset(IEnumerable<string> names)
    {
        var set = Select(TargetModules.FromNames(names));
        return new TargetSet(this, set.Indices.Where(IsAdaptable).ToArray(), set.Unmatched);
    }

    /// <summary>The adaptable modules that PEFT's list entry <paramref name="leafName"/> selects; throws when there are none.</summary>
    public TargetSet Leaf(string leafName)
    {
        var set = Preset(new[] { leafName });
        if (set.IsEmpty) throw new ArgumentException($"No Linear or Conv2d module of {ModelName} is named '{leafName}'.", nameof(leafName));
        return set;
    }

    /// <summary>Every module of class <paramref name="kind"/> (<c>Linear</c>, <c>Conv2d</c>, ...).</summary>
    public TargetSet OfKind(string kind) =>
        new TargetSet(this, Enumerable.Range(0, Modules.Count).Where(i => Modules[i].Name.Length > 0 && Modules[i].Kind == kind).ToArray());

    /// <summary>Every module whose last path segment is <paramref name="name"/> (<c>down_blocks</c>, <c>attn2</c>); throws when there is none.</summary>
    public ModuleScope Scope(string name)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("A scope name cannot be empty.", nameof(name));
        var members = Enumerable.Range(0, Modules.Count).Where(i => Modules[i].Name.Length > 0 && LastSegment(Modules[i].Name) == name).ToArray();
        if (members.Length == 0)
        {
            var suggestion = ClosestName.Find(name, ScopeNames);
            throw new ArgumentException($"No module of {ModelName} is named '{name}'{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")}", nameof(name));
        }
        return new ModuleScope(this, members);
    }

    /// <summary>The scope of the single module at <paramref name="path"/>; throws when absent.</summary>
    public ModuleScope ScopeAt(string path)
    {
        int i = IndexOf(path);
        if (i < 0) throw new ArgumentException($"{ModelName} has no module '{path}'.", nameof(path));
        return new ModuleScope(this, new[] { i });
    }

    internal int ParentOf(int index) => _parent[index];

    internal IReadOnlyList<int> ChildrenOf(int index) => _children[index];

    internal bool IsAdaptable(int index) => Modules[index].Name.Length > 0 && IsAdaptableKind(Modules[index].Kind);

    /// <summary>True when <paramref name="index"/> is <paramref name="ancestor"/> or lies below it.</summary>
    internal bool IsWithin(int index, int ancestor)
    {
        for (int i = index; i >= 0; i = _parent[i])
        {
            if (i == ancestor) return true;
        }
        return false;
    }

    internal static string LastSegment(string path) => path.Substring(path.LastIndexOf('.') + 1);

    internal static bool IsIndex(string segment) =>
        segment.Length > 0 && segment.All(c => c >= '0' && c <= '9');

    private string ComputeLeafName(int index)
    {
        var segments = Modules[index].Name.Split('.');
        int start = segments.Length - 1;
        while (start > 0)
        {
            if (IsIndex(segments[start]))
            {
                start--;
                continue;
            }
            int parent = IndexOf(string.Join(".", segments, 0, start));
            if (parent >= 0 && Modules[parent].Name.Length > 0 && _children[parent].Length == 1)
            {
                start--;
                continue;
            }
            break;
        }
        return string.Join(".", segments, start, segments.Length - start);
    }

    private IReadOnlyList<string> ComputeScopeNames()
    {
        var hasAdaptable = new bool[Modules.Count];
        for (int i = Modules.Count - 1; i >= 0; i--)
        {
            if (IsAdaptable(i)) hasAdaptable[i] = true;
            if (hasAdaptable[i] && _parent[i] >= 0) hasAdaptable[_parent[i]] = true;
        }
        var names = new List<string>();
        for (int i = 0; i < Modules.Count; i++)
        {
            var name = Modules[i].Name;
            if (name.Length == 0 || _children[i].Length == 0 || !hasAdaptable[i]) continue;
            var segment = LastSegment(name);
            if (IsIndex(segment) || IsMixedList(i)) continue;
            if (!names.Contains(segment)) names.Add(segment);
        }
        return names;
    }

    /// <summary>
    /// A list (every child an index) of unlike modules that include a leaf, like <c>to_out</c> (Linear, Dropout): each
    /// index has its own role there. Lists of unlike blocks (<c>down_blocks</c>) are not mixed in this sense.
    /// </summary>
    private bool IsMixedList(int index)
    {
        var children = _children[index];
        if (children.Length == 0 || !children.All(c => IsIndex(LastSegment(Modules[c].Name)))) return false;
        return children.Select(c => Modules[c].Kind).Distinct(StringComparer.Ordinal).Count() > 1 && children.Any(c => _children[c].Length == 0);
    }

    internal string Describe(int index) => Modules[index].Name.Length == 0 ? ModelName : Modules[index].Name;

    internal static string FormatIndex(int value) => value.ToString(CultureInfo.InvariantCulture);
}
