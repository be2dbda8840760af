namespace Peft.Typed.Architecture.Tree;

/// <summary>Maps a Python class name to its <see cref="LayerKind"/>.</summary>
public static class LayerKinds
{
    public static LayerKind Of(string className) => className switch
    {
        "Linear" => LayerKind.Linear,
        "Conv2d" => LayerKind.Conv2d,
        "Embedding" => LayerKind.Embedding,
        "GroupNorm" => LayerKind.GroupNorm,
        "LayerNorm" => LayerKind.LayerNorm,
        "Dropout" => LayerKind.Dropout,
        "SiLU" or "Mish" or "GELU" or "ReLU" or "QuickGELUActivation" or "GELUActivation" => LayerKind.Activation,
        _ => LayerKind.Composite,
    };

    /// <summary>True for the kinds PEFT adapters wrap (Linear, Conv2d).</summary>
    public static bool IsAdaptable(LayerKind kind) => kind == LayerKind.Linear || kind == LayerKind.Conv2d;
}
