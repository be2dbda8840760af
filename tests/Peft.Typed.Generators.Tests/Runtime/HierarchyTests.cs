using System.Reflection;
using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Typed;
using Peft.Typed.Generators.Tests.Support;

namespace Peft.Typed.Generators.Tests.Runtime;

/// <summary>
/// Walks every typed property of the generated classes on real runtime models: each view's path exists, its
/// runtime module has the declared type, optional members are null exactly where the module is missing, and the
/// walk reaches every module of the tree. A walk needs reflection; tests of the API as app code writes it live in
/// tests/Peft.Typed.Generated.Tests, which compiles against the generated classes.
/// </summary>
[Collection(GeneratedAssemblyCollection.Name)]
public sealed class HierarchyTests(GeneratedAssembly generated)
{
    [Theory]
    [InlineData("TinyUnet", false)]
    [InlineData("TinyVae", false)]
    [InlineData("TinyClipText", false)]
    [InlineData("Sd15Unet", true)]
    [InlineData("SdxlUnet", true)]
    [InlineData("SdVae", true)]
    [InlineData("Sd15TextEncoder", true)]
    [InlineData("SdxlTextEncoder2", true)]
    public void Every_view_resolves_to_its_runtime_module_and_the_walk_covers_the_tree(string className, bool onMeta)
    {
        using var model = (TypedModel)generated.Call(className, "Create", onMeta ? LayerFactory.Meta : null);
        var visited = new HashSet<string>();

        Walk(model, visited);

        // Not reached by a view: the root itself and lists whose indices have their own roles (to_out, ff.net),
        // which are flattened into ToOut0, ToOut1, Net0, ...
        var unreached = model.Catalog.Modules.Select(m => m.Name).Where(n => n.Length > 0 && !visited.Contains(n)).ToList();
        Assert.All(unreached, name => Assert.True(
            model.Catalog.ChildCount(name) > 0 && visited.Contains(name + ".0"),
            $"'{name}' is not reachable through the typed properties."));
    }

    private static void Walk(object owner, HashSet<string> visited)
    {
        var catalog = owner is ModuleView parent ? parent.Owner.Catalog : ((TypedModel)owner).Catalog;
        var parentPath = owner is ModuleView view ? view.Path : "";
        foreach (var property in owner.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
        {
            if (!typeof(ModuleView).IsAssignableFrom(property.PropertyType)) continue;
            var child = (ModuleView?)property.GetValue(owner);
            if (child is null)
            {
                // Only optional members are nullable: they are null exactly where the module has no such child.
                var path = parentPath.Length == 0 ? SnakeCase(property.Name) : parentPath + "." + SnakeCase(property.Name);
                Assert.False(catalog.Contains(path), $"{property.Name} is null but '{path}' exists.");
                continue;
            }
            Assert.True(catalog.Contains(child.Path), $"'{child.Path}' is not a module.");
            Visit(child, visited);
        }
    }

    private static void Visit(ModuleView view, HashSet<string> visited)
    {
        Assert.True(visited.Add(view.Path), $"'{view.Path}' reached twice.");
        Assert.Equal(view.Owner.Catalog.Modules[view.Owner.Catalog.IndexOf(view.Path)].Kind, view.ClassName);
        _ = TypedModule(view);
        if (view is System.Collections.IEnumerable list)
        {
            foreach (ModuleView element in list) Visit(element, visited);
            CheckElementProperties(view);
            return;
        }
        Walk(view, visited);
    }

    /// <summary>
    /// A list of unlike blocks also has one property per element (<c>Block1</c>): each is the element at its index, of
    /// that element's class, and its own properties resolve and are never null.
    /// </summary>
    private static void CheckElementProperties(ModuleView list)
    {
        var catalog = list.Owner.Catalog;
        var properties = list.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(p => typeof(ModuleView).IsAssignableFrom(p.PropertyType) && p.GetIndexParameters().Length == 0).ToList();
        // A generated list class (not ModuleListView itself) has one property per element.
        Assert.Equal(list.GetType().IsGenericType ? 0 : catalog.ChildCount(list.Path), properties.Count);
        foreach (var property in properties)
        {
            var element = (ModuleView)property.GetValue(list)!;
            Assert.Equal(list.Path + "." + new string(property.Name.Where(char.IsAsciiDigit).ToArray()), element.Path);
            Assert.Equal(catalog.Modules[catalog.IndexOf(element.Path)].Kind, element.ClassName);
            Assert.DoesNotContain(element.GetType().GetProperties(), p => Nullable.GetUnderlyingType(p.PropertyType) is not null
                || new NullabilityInfoContext().Create(p).ReadState == NullabilityState.Nullable);
            var elementVisited = new HashSet<string> { element.Path };
            Walk(element, elementVisited);
        }
    }

    /// <summary>The most derived <c>Module</c> property (typed), plus <c>Layer</c> of a layer view: reading them checks the runtime type.</summary>
    private static object TypedModule(ModuleView view)
    {
        for (var type = view.GetType(); type is not null; type = type.BaseType)
        {
            var layer = type.GetProperty("Layer", BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly);
            if (layer is not null) return layer.GetValue(view)!;
            var module = type.GetProperty("Module", BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly);
            if (module is not null) return module.GetValue(view)!;
        }
        throw new InvalidOperationException(view.Path);
    }

    private static string SnakeCase(string pascal) =>
        string.Concat(pascal.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
