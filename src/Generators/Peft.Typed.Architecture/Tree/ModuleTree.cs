using System.Collections.Generic;

namespace Peft.Typed.Architecture.Tree;

/// <summary>
/// A whole model as built by diffusers/transformers: the root <see cref="ModuleNode"/>, every module in
/// registration order (modules.json order, parameterless modules included) and every parameter in
/// <c>state_dict()</c> order (a module's own parameters, then its children's, depth first).
/// </summary>
public sealed class ModuleTree
{
    private readonly Dictionary<string, ModuleNode> _byPath;

    public ModuleTree(ModuleNode root)
    {
        Root = root;
        var modules = new List<ModuleNode>();
        var parameters = new List<NamedParameter>();
        Collect(root, modules, parameters);
        Modules = modules;
        Parameters = parameters;
        _byPath = new Dictionary<string, ModuleNode>(modules.Count);
        foreach (var module in modules) _byPath[module.Path] = module;
        long count = 0;
        foreach (var parameter in parameters) count += parameter.Spec.ElementCount;
        ParameterCount = count;
    }

    public ModuleNode Root { get; }

    /// <summary>The root's class name: <c>UNet2DConditionModel</c>, <c>CLIPTextModel</c>, ...</summary>
    public string ClassName => Root.ClassName;

    /// <summary>Every module, root first, depth first in registration order.</summary>
    public IReadOnlyList<ModuleNode> Modules { get; }

    /// <summary>Every parameter in state_dict order; <see cref="NamedParameter.Name"/> is the checkpoint key.</summary>
    public IReadOnlyList<NamedParameter> Parameters { get; }

    /// <summary>Total number of scalar weights (sd15 UNet: 859,520,964).</summary>
    public long ParameterCount { get; }

    /// <summary>The module at a qualified path ("" is the root); throws naming the path when absent.</summary>
    public ModuleNode Find(string path) =>
        _byPath.TryGetValue(path, out var node) ? node : throw new KeyNotFoundException($"{ClassName} has no module '{path}'.");

    /// <summary>The module at a qualified path, or null.</summary>
    public ModuleNode? FindOrNull(string path) => _byPath.TryGetValue(path, out var node) ? node : null;

    /// <summary>The Linear and Conv2d modules, in registration order: what adapters may target.</summary>
    public IEnumerable<ModuleNode> AdaptableModules()
    {
        foreach (var module in Modules)
        {
            if (module.IsAdaptable) yield return module;
        }
    }

    private static void Collect(ModuleNode node, List<ModuleNode> modules, List<NamedParameter> parameters)
    {
        modules.Add(node);
        foreach (var parameter in node.Parameters)
        {
            var name = node.Path.Length == 0 ? parameter.Name : node.Path + "." + parameter.Name;
            parameters.Add(new NamedParameter(name, node, parameter));
        }
        foreach (var child in node.Children) Collect(child, modules, parameters);
    }
}
