using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Typed;

/// <summary>
/// A typed handle on one module of a <see cref="TypedModel"/>, by qualified path. Generated classes derive from it
/// with a property per child; <see cref="Module"/> reads the live module, so it follows adapter wrapping. A view is
/// also the sub-tree it roots: it converts to a <see cref="ModuleScope"/>, so <c>targets.Within(unet.MidBlock)</c>
/// keeps the targets inside <c>mid_block</c>.
/// </summary>
public abstract class ModuleView
{
    protected ModuleView(TypedModel owner, string path)
    {
        Owner = owner ?? throw new ArgumentNullException(nameof(owner));
        Path = path ?? throw new ArgumentNullException(nameof(path));
    }

    /// <summary>The typed model the module belongs to.</summary>
    public TypedModel Owner { get; }

    /// <summary>The qualified name, e.g. <c>down_blocks.1.attentions.0</c> (the state-dict prefix).</summary>
    public string Path { get; }

    /// <summary>The Python class of the module (<c>Transformer2DModel</c>, <c>Linear</c>).</summary>
    public string ClassName => Owner.Catalog.Modules[Owner.Catalog.IndexOf(Path)].Kind;

    /// <summary>The module at <see cref="Path"/> now.</summary>
    public nn.Module Module => Owner.ModuleAt(Path);

    /// <summary>The sub-tree this module roots, to restrict target sets to (<c>targets.Within(view.Scope)</c>) or exclude from them.</summary>
    public ModuleScope Scope => Owner.Catalog.ScopeAt(Path);

    /// <summary>The sub-tree <paramref name="view"/> roots: <c>TinyUnet.Targets.All.Within(unet.DownBlocks[1])</c>.</summary>
    public static implicit operator ModuleScope(ModuleView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        return view.Scope;
    }

    public override string ToString() => $"{Path} ({ClassName})";

    /// <summary>The qualified name of child <paramref name="name"/>.</summary>
    protected string ChildPath(string name) => Path.Length == 0 ? name : Path + "." + name;

    /// <summary>True when this module has a child <paramref name="name"/> (for children only some modules of a class have).</summary>
    protected bool HasChild(string name) => Owner.Catalog.Contains(ChildPath(name));

    /// <summary>
    /// The module computing at <paramref name="module"/>'s place without adapters: the layer an adapter wraps, or the
    /// active trained copy of a module to save (the original when none is active).
    /// </summary>
    internal static nn.Module Unwrap(nn.Module module) => module switch
    {
        AdapterLayer adapter => adapter.BaseLayer,
        ModulesToSaveWrapper { ActiveAdapter: { } active } wrapper => wrapper.CopyOf(active),
        ModulesToSaveWrapper wrapper => wrapper.OriginalModule,
        _ => module,
    };

    internal static T Cast<T>(nn.Module module, string path) where T : class =>
        module as T ?? throw new InvalidCastException($"Module '{path}' is a {module.GetType().Name}, not a {typeof(T).Name}.");
}
