using System.Reflection;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters;

/// <summary>
/// Finds modules by qualified name and swaps a child for another (PEFT's <c>setattr(parent, name, new)</c>).
/// A C# parent calls its children through typed fields, so the swap updates both the registration (state-dict
/// keys) and every place the parent's forward reads the child from: a field, a <c>ModuleList</c> slot or a
/// <c>Sequential</c> entry. A field whose declared type cannot hold the new module is a clear error.
/// </summary>
internal static class ModuleSurgery
{
    private static readonly FieldInfo Submodules = typeof(nn.Module).GetField("_internal_submodules", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new MissingFieldException("TorchSharp's Module._internal_submodules was not found; this TorchSharp version is not supported.");

    private static readonly FieldInfo? SequentialModules = typeof(Sequential).GetField("_modules", BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>The module at <paramref name="qualifiedName"/> ("" is the root).</summary>
    public static nn.Module Find(nn.Module root, string qualifiedName)
    {
        var module = root;
        if (qualifiedName.Length == 0) return module;
        foreach (var segment in qualifiedName.Split('.'))
        {
            var next = module.named_children().FirstOrDefault(c => c.name == segment).module;
            module = next ?? throw new KeyNotFoundException($"No module '{qualifiedName}': '{segment}' is not a child of {module.GetType().Name}.");
        }
        return module;
    }

    /// <summary>The parent of <paramref name="qualifiedName"/> and the child's last name segment.</summary>
    public static (nn.Module Parent, string ChildName) Parent(nn.Module root, string qualifiedName)
    {
        int dot = qualifiedName.LastIndexOf('.');
        return dot < 0 ? (root, qualifiedName) : (Find(root, qualifiedName[..dot]), qualifiedName[(dot + 1)..]);
    }

    /// <summary>Throws unless <see cref="Replace"/> can put a module of type <paramref name="replacementType"/> in place of the child.</summary>
    public static void CheckReplaceable(nn.Module root, string qualifiedName, Type replacementType)
    {
        var (parent, childName) = Parent(root, qualifiedName);
        var child = Find(parent, childName);
        _ = Holders(parent, child, replacementType, qualifiedName);
    }

    /// <summary>Puts <paramref name="replacement"/> where the module <paramref name="qualifiedName"/> is.</summary>
    public static void Replace(nn.Module root, string qualifiedName, nn.Module replacement)
    {
        var (parent, childName) = Parent(root, qualifiedName);
        var child = Find(parent, childName);
        var holders = Holders(parent, child, replacement.GetType(), qualifiedName);
        var registered = (TorchSharp.Utils.OrderedDict<string, nn.Module>)Submodules.GetValue(parent)!;
        // The indexer keeps the child's position, so named_modules and state_dict order do not change.
        registered[childName] = replacement;
        foreach (var set in holders) set(replacement);
    }

    private static List<Action<nn.Module>> Holders(nn.Module parent, nn.Module child, Type replacementType, string qualifiedName)
    {
        var holders = new List<Action<nn.Module>>();
        for (var type = parent.GetType(); type is not null && type != typeof(nn.Module); type = type.BaseType)
        {
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (!ReferenceEquals(field.GetValue(parent), child)) continue;
                if (!field.FieldType.IsAssignableFrom(replacementType))
                    throw new NotSupportedException(
                        $"Cannot replace '{qualifiedName}': field '{field.Name}' of {parent.GetType().Name} is declared as {field.FieldType.Name}, "
                        + $"which cannot hold the {replacementType.Name} that replaces it. Declare it as Module<Tensor, Tensor> so adapters can wrap it.");
                holders.Add(m => field.SetValue(parent, m));
            }
        }
        if (parent is Sequential && SequentialModules?.GetValue(parent) is List<nn.IModule<Tensor, Tensor>> sequence)
        {
            int index = sequence.FindIndex(m => ReferenceEquals(m, child));
            if (index >= 0)
            {
                if (!typeof(nn.IModule<Tensor, Tensor>).IsAssignableFrom(replacementType))
                    throw new NotSupportedException($"Cannot replace '{qualifiedName}': a Sequential only holds Module<Tensor, Tensor>.");
                holders.Add(m => sequence[index] = (nn.IModule<Tensor, Tensor>)m);
            }
        }
        var list = ListSlot(parent, child, replacementType, qualifiedName);
        if (list is not null) holders.Add(list);
        if (holders.Count == 0)
            throw new NotSupportedException(
                $"Cannot replace '{qualifiedName}': {parent.GetType().Name} holds it in no field, ModuleList or Sequential, so its forward would keep calling the original module.");
        return holders;
    }

    /// <summary>A setter for the child's slot when the parent is a <c>ModuleList&lt;T&gt;</c>.</summary>
    private static Action<nn.Module>? ListSlot(nn.Module parent, nn.Module child, Type replacementType, string qualifiedName)
    {
        var type = parent.GetType();
        if (!type.IsGenericType || type.GetGenericTypeDefinition() != typeof(ModuleList<>)) return null;
        var itemType = type.GetGenericArguments()[0];
        var items = ((System.Collections.IEnumerable)parent).Cast<object>().ToList();
        int index = items.FindIndex(m => ReferenceEquals(m, child));
        if (index < 0) return null;
        if (!itemType.IsAssignableFrom(replacementType))
            throw new NotSupportedException(
                $"Cannot replace '{qualifiedName}': its ModuleList holds {itemType.Name}, which cannot hold the {replacementType.Name} that replaces it. Use ModuleList<Module<Tensor, Tensor>>.");
        var indexer = type.GetProperty("Item", [typeof(int)])!;
        return m => indexer.SetValue(parent, m, [index]);
    }

    /// <summary>
    /// Every module of the tree except the root, depth first in registration order (PyTorch's <c>named_modules</c>
    /// order), without the inside of adapter wrappers.
    /// </summary>
    public static IReadOnlyList<(string Name, nn.Module Module)> Modules(nn.Module root)
    {
        var result = new List<(string, nn.Module)>();
        Visit(root, "", result);
        return result;
    }

    private static void Visit(nn.Module module, string prefix, List<(string, nn.Module)> result)
    {
        foreach (var (name, child) in module.named_children())
        {
            var qualified = prefix.Length == 0 ? name : prefix + "." + name;
            result.Add((qualified, child));
            if (child is not (AdapterLayer or ModulesToSaveWrapper)) Visit(child, qualified, result);
        }
    }
}
