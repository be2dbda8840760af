using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters;

/// <summary>The class name targeting sees for a module: <c>Linear</c>, <c>Conv2d</c>, <c>GroupNorm</c>, <c>ModuleList</c>.</summary>
public static class ModuleKinds
{
    /// <summary>
    /// The module's class name without generic arity; an adapter layer reports the class of the layer it wraps,
    /// so a second adapter targets it exactly like the first.
    /// </summary>
    public static string Of(nn.Module module)
    {
        if (module is AdapterLayer layer) return layer.Geometry.Kind;
        var name = module.GetType().Name;
        int tick = name.IndexOf('`');
        return tick < 0 ? name : name[..tick];
    }
}
