using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Generators.Emit;

namespace Peft.Typed.Generators.Shapes;

/// <summary>
/// The typed hierarchy of a model: the root's members and every view class they reach. Lists of like modules
/// become indexable <c>ModuleListView</c>s; lists of unlike blocks index into a union view; lists mixing leaves
/// (<c>to_out</c>: Linear, Dropout) become one property per element (<c>ToOut0</c>, <c>ToOut1</c>).
/// </summary>
internal sealed class ViewShapes
{
    private static readonly string[] ViewReserved =
    {
        "Owner", "Path", "ClassName", "Module", "Scope", "Targets", "ToString", "Equals", "GetHashCode", "GetType", "ChildPath", "HasChild",
    };

    private static readonly string[] RootReserved =
    {
        "Model", "RootModule", "OwnsModel", "Catalog", "Peft", "WithAdapter", "ModuleAt", "Dispose", "Config", "ConfigJson", "ParsedConfig",
        "Targets", "ScopedTargets", "Scopes", "Create", "Wrap", "FromPretrained", "CheckPretrainedConfig", "ToString", "Equals", "GetHashCode", "GetType",
    };

    private readonly ModuleCatalog _catalog;
    private readonly Dictionary<string, ViewClass> _classViews = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ViewClass> _unionViews = new(StringComparer.Ordinal);
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
        return TypeRef.List(TypeRef.View(UnionView(SegmentOf(index))));
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

    private void Fill(ViewClass view, IReadOnlyList<int> instances)
    {
        var taken = new HashSet<string>(ViewReserved, StringComparer.Ordinal) { view.Name };
        view.Instances = instances.Count;
        view.Members = Merge(instances).Select(m => m with { PropertyName = Identifiers.Unique(m.PropertyName, taken) }).ToList();
    }

    public static string Count(int value) => value.ToString(CultureInfo.InvariantCulture);
}
