using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>diffusers FeedForward with GEGLU: net = [GEGLU(proj: dim to 2 * 4 * dim), Dropout, Linear(4 * dim to dim)].</summary>
internal static class FeedForwardBuilder
{
    public static ModuleNode Build(string path, int dim)
    {
        var innerDim = dim * 4;
        var net = TorchLayers.ModuleList(ModulePath.Join(path, "net"), 3, (itemPath, i) => i switch
        {
            0 => TorchLayers.Module(itemPath, "GEGLU", TorchLayers.Linear(ModulePath.Join(itemPath, "proj"), dim, innerDim * 2)),
            1 => TorchLayers.Dropout(itemPath, 0.0),
            _ => TorchLayers.Linear(itemPath, innerDim, dim),
        });
        return TorchLayers.Module(path, "FeedForward", net);
    }
}
