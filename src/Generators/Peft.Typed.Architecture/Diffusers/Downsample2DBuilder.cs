using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>
/// diffusers Downsample2D: a 3x3 stride-2 conv registered as <c>conv</c>. Padding 0 is the VAE encoder's case,
/// where the forward zero-pads right and bottom by one first.
/// </summary>
internal static class Downsample2DBuilder
{
    public static ModuleNode Build(string path, int channels, int padding) =>
        TorchLayers.Module(
            path,
            "Downsample2D",
            ModuleOptions.Of(("channels", channels), ("use_conv", true), ("padding", padding)),
            new[] { TorchLayers.Conv2d(ModulePath.Join(path, "conv"), channels, channels, kernelSize: 3, stride: 2, padding: padding) });

    /// <summary>A block's <c>downsamplers</c> ModuleList holding one Downsample2D.</summary>
    public static ModuleNode List(string blockPath, int channels, int padding) =>
        TorchLayers.ModuleList(ModulePath.Join(blockPath, "downsamplers"), 1, (itemPath, _) => Build(itemPath, channels, padding));
}
