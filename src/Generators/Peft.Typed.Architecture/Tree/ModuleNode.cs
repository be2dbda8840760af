using System;
using System.Collections.Generic;
using System.Linq;

namespace Peft.Typed.Architecture.Tree;

/// <summary>
/// One registered submodule of a diffusers/transformers model: its qualified path (the state-dict prefix),
/// its class name, its hyper-parameters (the fields of module_details.json) and its own parameters.
/// The runtime builds TorchSharp modules from these nodes and the generator emits typed accessors for them.
/// </summary>
public sealed class ModuleNode
{
    public ModuleNode(string path, string className, ModuleOptions options, IReadOnlyList<ParameterSpec> parameters, IReadOnlyList<ModuleNode> children)
    {
        Path = path;
        ClassName = className;
        Options = options;
        Parameters = parameters;
        Children = children;
        Kind = LayerKinds.Of(className);
    }

    /// <summary>Qualified path, e.g. <c>down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q</c>; "" for the root.</summary>
    public string Path { get; }

    /// <summary>Last path segment (<c>to_q</c>, <c>0</c>); "" for the root.</summary>
    public string Name => Path.Substring(Path.LastIndexOf('.') + 1);

    /// <summary>The Python class: <c>Linear</c>, <c>Conv2d</c>, <c>ResnetBlock2D</c>, <c>ModuleList</c>, ...</summary>
    public string ClassName { get; }

    public ModuleOptions Options { get; }

    /// <summary>What the class is, for adapter targeting (from <see cref="ClassName"/>).</summary>
    public LayerKind Kind { get; }

    /// <summary>True for Linear and Conv2d leaves, the modules PEFT adapters can wrap.</summary>
    public bool IsAdaptable => LayerKinds.IsAdaptable(Kind);

    /// <summary>Parameters registered directly on this module (<c>weight</c>, <c>bias</c>), in registration order.</summary>
    public IReadOnlyList<ParameterSpec> Parameters { get; }

    /// <summary>Child modules in registration order.</summary>
    public IReadOnlyList<ModuleNode> Children { get; }

    /// <summary>The child with the given segment name, or an exception naming this module's children.</summary>
    public ModuleNode Child(string name)
    {
        foreach (var child in Children)
        {
            if (child.Name == name) return child;
        }
        throw new KeyNotFoundException($"Module '{Path}' ({ClassName}) has no child '{name}'; children: {string.Join(", ", Children.Select(c => c.Name))}.");
    }

    /// <summary>True when a child with that segment name exists.</summary>
    public bool HasChild(string name) => Children.Any(c => c.Name == name);

    /// <summary>This node and every descendant, depth first in registration order (modules.json order).</summary>
    public IEnumerable<ModuleNode> Descendants()
    {
        yield return this;
        foreach (var child in Children)
        {
            foreach (var node in child.Descendants()) yield return node;
        }
    }

    public override string ToString() => Path.Length == 0 ? ClassName : $"{Path} ({ClassName})";
}
