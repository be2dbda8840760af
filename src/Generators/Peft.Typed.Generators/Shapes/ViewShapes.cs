using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Generators.Emit;

namespace Peft.Typed.Generators.Shapes;

/// <summary>
/// The typed hierarchy of a model: the root's members and every view class they reach. Lists of like modules
/// become indexable <c>ModuleListView</c>s; lists of unlike blocks become a list class (<c>DownBlocksList</c>) whose
/// indexer returns a union view and whose per-index properties (<c>Block1</c>) return the exact view of that element;
/// lists mixing leaves (<c>to_out</c>: Linear, Dropout) become one property per element (<c>ToOut0</c>, <c>ToOut1</c>).
/// </summary>
internal sealed class ViewShapes
{
    private static readonly string[] ViewReserved =
    {
        "Owner", "Path", "ClassName", "Module", "Scope", "Targets", "ToString", "Equals", "GetHashCode", "GetType", "ChildPath", "HasChild",
    };

    /// <summary>Members of <c>ModuleListView</c> besides <see cref="ViewReserved"/>; the indexer is <c>Item</c>.</summary>
    private static readonly string[] ListReserved = { "Count", "Item", "GetEnumerator" };

    private static readonly string[] RootReserved =
    {
        "Model", "RootModule", "OwnsModel", "Catalog", "Peft", "WithAdapter", "ModuleAt", "Dispose", "Config", "ConfigJson", "ParsedConfig",
        "Targets", "ScopedTargets", "Scopes", "Create", "Wrap", "FromPretrained", "CheckPretrainedConfig", "ToString", "Equals", "GetHashCode", "GetType",
    };

    private readonly ModuleCatalog _catalog;
    private readonly Dictionary<string, ViewClass> _classViews = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ViewClass> _unionViews = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ViewClass> _shapeViews = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ViewClass> _listViews = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<int>> _listInstances = new(StringComparer.Ordinal);
    private readonly List<ViewClass> _order = new();
    private readonly Queue<Action> _pending = new();
    private readonly HashSet<string> _viewNames;

    private ViewShapes(ModuleCatalog catalog, string typedClassName)
    {
        _catalog = catalog;
        _viewNames = new HashSet<string>(StringComparer.Ordinal) { typedClassName, "Targets", "ScopedTargets", "Scopes" };
    }

    /// <summary>The typed class's own properties (the root's children).</summary>
    public IReadOnlyList<ViewMember> RootMembers { get; private set; } = new ViewMember[0];

    /// <summary>The view classes, in the order the hierarchy first reaches them.</summary>
    public IReadOnlyList<ViewClass> Classes => _order;

    public static ViewShapes Create(ModuleCatalog catalog, string typedClassName)
    {
        var shapes = new ViewShapes(catalog, typedClassName);
        int root = catalog.IndexOf("");
        var rootMembers = shapes.Merge(new[] { root });
        while (shapes._pending.Count > 0) shapes._pending.Dequeue()();
        foreach (var list in shapes._listViews) list.Value.Instances = shapes._listInstances[list.Key].Count;
        var taken = new HashSet<string>(RootReserved.Concat(shapes._viewNames), StringComparer.Ordinal);
        shapes.RootMembers = rootMembers.Select(m => m with { PropertyName = Identifiers.Unique(m.PropertyName, taken) }).ToList();
        return shapes;
    }

    private string ClassOf(int index) => _catalog.Modules[index].Kind;

    private string SegmentOf(int index) => ModuleCatalog.LastSegment(_catalog.Modules[index].Name);

    private bool IsLeaf(int index) => _catalog.ChildrenOf(index).Count == 0;

    private bool IsList(int index) =>
        !IsLeaf(index) && (ClassOf(index) == "ModuleList" || _catalog.ChildrenOf(index).All(c => ModuleCatalog.IsIndex(SegmentOf(c))));

    private TypeRef TypeOf(int index)
    {
        if (IsLeaf(index))
        {
            var runtime = RuntimeTypes.Of(ClassOf(index));
            return _catalog.IsAdaptable(index) ? TypeRef.Layer(runtime) : TypeRef.Module(runtime);
        }
        if (!IsList(index)) return TypeRef.View(ClassView(ClassOf(index)));
        var elements = _catalog.ChildrenOf(index);
        if (elements.Select(ClassOf).Distinct(StringComparer.Ordinal).Count() == 1) return TypeRef.List(TypeOf(elements[0]));
        return TypeRef.View(UnlikeList(index));
    }

    /// <summary>A list whose elements differ in class and include a leaf: each element is its own property.</summary>
    private bool IsPositional(int index)
    {
        if (!IsList(index)) return false;
        var elements = _catalog.ChildrenOf(index);
        return elements.Select(ClassOf).Distinct(StringComparer.Ordinal).Count() > 1 && elements.Any(IsLeaf);
    }

    private string Describe(int index)
    {
        if (!IsList(index)) return ClassOf(index);
        var classes = string.Join(", ", _catalog.ChildrenOf(index).Select(ClassOf).Distinct(StringComparer.Ordinal));
        return "ModuleList of " + classes;
    }

    private IEnumerable<(string Relative, int Index)> ChildrenForMembers(int index)
    {
        foreach (var child in _catalog.ChildrenOf(index))
        {
            var segment = SegmentOf(child);
            if (IsPositional(child))
            {
                foreach (var element in _catalog.ChildrenOf(child)) yield return (segment + "." + SegmentOf(element), element);
            }
            else
            {
                yield return (segment, child);
            }
        }
    }

    /// <summary>The union of the members of <paramref name="instances"/>, optional where some instance lacks the child.</summary>
    private List<ViewMember> Merge(IReadOnlyList<int> instances)
    {
        var order = new List<string>();
        var found = new Dictionary<string, (TypeRef Type, string Description, int Count)>(StringComparer.Ordinal);
        foreach (var instance in instances)
        {
            foreach (var (relative, child) in ChildrenForMembers(instance))
            {
                var type = TypeOf(child);
                var description = Describe(child);
                if (!found.TryGetValue(relative, out var existing))
                {
                    order.Add(relative);
                    found[relative] = (type, description, 1);
                    continue;
                }
                var merged = existing.Type.Type == type.Type ? existing.Type : TypeRef.Module(RuntimeTypes.Module);
                var mergedDescription = existing.Description == description ? description : existing.Description + " or " + description;
                found[relative] = (merged, mergedDescription, existing.Count + 1);
            }
        }
        return order.Select(r => new ViewMember(Identifiers.Pascal(r), r, found[r].Type, found[r].Description, found[r].Count, instances.Count)).ToList();
    }

    private string ClassView(string className)
    {
        if (_classViews.TryGetValue(className, out var view)) return view.Name;
        view = new ViewClass(Identifiers.Unique(Identifiers.Pascal(className) + "View", _viewNames), RuntimeTypes.Of(className), $"<c>{className}</c> modules", isUnion: false);
        _classViews[className] = view;
        _order.Add(view);
        _pending.Enqueue(() => Fill(view, Enumerable.Range(0, _catalog.Modules.Count)
            .Where(i => _catalog.Modules[i].Name.Length > 0 && ClassOf(i) == className && !IsLeaf(i) && !IsList(i)).ToList()));
        return view.Name;
    }

    private string UnionView(string segment)
    {
        if (_unionViews.TryGetValue(segment, out var view)) return view.Name;
        var pascal = Identifiers.Pascal(segment);
        var singular = pascal.EndsWith("s", StringComparison.Ordinal) ? pascal.Substring(0, pascal.Length - 1) : pascal + "Item";
        var elements = Enumerable.Range(0, _catalog.Modules.Count)
            .Where(i => _catalog.Modules[i].Name.Length > 0 && SegmentOf(i) == segment && IsList(i) && !IsPositional(i))
            .SelectMany(i => _catalog.ChildrenOf(i))
            .ToList();
        var classes = string.Join(", ", elements.Select(ClassOf).Distinct(StringComparer.Ordinal).Select(c => $"<c>{c}</c>"));
        view = new ViewClass(Identifiers.Unique(singular + "View", _viewNames), RuntimeTypes.Module, $"Elements of <c>{segment}</c>: {classes}", isUnion: true);
        _unionViews[segment] = view;
        _order.Add(view);
        _pending.Enqueue(() => Fill(view, elements));
        return view.Name;
    }

    /// <summary>
    /// The class of a list of unlike blocks: its indexer returns the union view, and one property per element
    /// (<c>Block0</c>, <c>Block1</c>, named after the list's singular) returns that element's exact view.
    /// </summary>
    private string UnlikeList(int index)
    {
        var segment = SegmentOf(index);
        int position = _order.Count;
        var element = UnionView(segment);
        var elements = _catalog.ChildrenOf(index);
        var types = elements.Select(e => (Segment: SegmentOf(e), Type: ExactView(e))).ToList();
        var key = element + ":" + string.Join(",", types.Select(t => t.Segment + "=" + t.Type.Type));
        if (_listViews.TryGetValue(key, out var view))
        {
            _listInstances[key].Add(index);
            return view.Name;
        }
        _listInstances[key] = new HashSet<int> { index };
        var classes = string.Join(", ", elements.Select(ClassOf).Distinct(StringComparer.Ordinal).Select(c => $"<c>{c}</c>"));
        view = new ViewClass(Identifiers.Unique(Identifiers.Pascal(segment) + "List", _viewNames), RuntimeTypes.Module,
            $"<c>{segment}</c>, a list of {classes}", isUnion: false) { ListElementView = element };
        _listViews[key] = view;
        _order.Insert(position, view);
        var singular = Singular(segment);
        var taken = new HashSet<string>(ViewReserved.Concat(ListReserved), StringComparer.Ordinal) { view.Name };
        view.Members = types.Zip(elements, (t, e) => new ViewMember(
            Identifiers.Unique(singular + t.Segment, taken), t.Segment, t.Type, ClassOf(e), 1, 1)).ToList();
        return view.Name;
    }

    /// <summary>
    /// The view of exactly the children <paramref name="index"/> has: its class's view when every module of the class
    /// has the same children, else a view of the modules of that class with the same children, named after what
    /// they lack (<c>CrossAttnUpBlock2DWithoutUpsamplersView</c>) or, for the complete ones, what the others lack
    /// (<c>CrossAttnUpBlock2DWithUpsamplersView</c>). Its members are never null.
    /// </summary>
    private TypeRef ExactView(int index)
    {
        if (IsLeaf(index) || IsList(index)) return TypeOf(index);
        var className = ClassOf(index);
        var instances = Enumerable.Range(0, _catalog.Modules.Count)
            .Where(i => _catalog.Modules[i].Name.Length > 0 && ClassOf(i) == className && !IsLeaf(i) && !IsList(i)).ToList();
        var shape = Shape(index);
        if (instances.All(i => Shape(i).SequenceEqual(shape))) return TypeRef.View(ClassView(className));
        var key = className + ":" + string.Join(",", shape);
        if (_shapeViews.TryGetValue(key, out var view)) return TypeRef.View(view.Name);
        var all = new List<string>();
        foreach (var relative in instances.SelectMany(Shape)) if (!all.Contains(relative)) all.Add(relative);
        var missing = all.Where(r => !shape.Contains(r)).ToList();
        var optional = all.Where(r => !instances.All(i => Shape(i).Contains(r))).ToList();
        var qualifier = missing.Count > 0
            ? "Without" + string.Concat(missing.Select(Identifiers.Pascal))
            : "With" + string.Concat(optional.Select(Identifiers.Pascal));
        var name = Identifiers.Unique(Identifiers.Pascal(className) + qualifier + "View", _viewNames);
        var which = missing.Count > 0
            ? $"without {string.Join(", ", missing.Select(m => $"<c>{m}</c>"))}"
            : $"with {string.Join(", ", optional.Select(m => $"<c>{m}</c>"))}";
        view = new ViewClass(name, RuntimeTypes.Of(className), $"<c>{className}</c> modules {which}", isUnion: false);
        _shapeViews[key] = view;
        _order.Add(view);
        _pending.Enqueue(() => Fill(view, instances.Where(i => Shape(i).SequenceEqual(shape)).ToList()));
        return TypeRef.View(view.Name);
    }

    /// <summary>The relative paths of the members a module's view has, in registration order.</summary>
    private List<string> Shape(int index) => ChildrenForMembers(index).Select(c => c.Relative).ToList();

    /// <summary>The name of one element of a list: <c>down_blocks</c> gives <c>Block</c>, <c>layers</c> <c>Layer</c>, else <c>Item</c>.</summary>
    private static string Singular(string segment)
    {
        var last = Identifiers.Pascal(segment.Substring(segment.LastIndexOf('_') + 1));
        return last.Length > 1 && last.EndsWith("s", StringComparison.Ordinal) && !last.StartsWith("_", StringComparison.Ordinal)
            ? last.Substring(0, last.Length - 1)
            : "Item";
    }

    private void Fill(ViewClass view, IReadOnlyList<int> instances)
    {
        var taken = new HashSet<string>(ViewReserved, StringComparer.Ordinal) { view.Name };
        view.Instances = instances.Count;
        view.Members = Merge(instances).Select(m => m with { PropertyName = Identifiers.Unique(m.PropertyName, taken) }).ToList();
    }

    public static string Count(int value) => value.ToString(CultureInfo.InvariantCulture);
}
