using static TorchSharp.torch;

namespace Peft.Typed.Models.Typed;

/// <summary>A <see cref="ModuleView"/> whose runtime module is a <typeparamref name="TModule"/>.</summary>
public class ModuleView<TModule> : ModuleView
    where TModule : nn.Module
{
    public ModuleView(TypedModel owner, string path) : base(owner, path)
    {
    }

    /// <summary>The runtime module (the active copy when it is a module to save).</summary>
    public new TModule Module => Cast<TModule>(Unwrap(Owner.ModuleAt(Path)), Path);
}
