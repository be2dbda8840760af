using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>diffusers Upsample2D: nearest 2x interpolation, then a 3x3 conv registered as <c>conv</c>.</summary>
internal static class Upsample2DBuilder
{
    public static ModuleNode Build(string path, int channels) =>
        TorchLayers.Module(
            path,
            "Upsample2D",
            ModuleOptions.Of(("channels", channels), ("use_conv", true), ("use_conv_transpose", false), ("interpolate", true)),
            new[] { TorchLayers.Conv2d(ModulePath.Join(path, "conv"), channels, channels, kernelSize: 3, padding: 1) });

    /// <summary>A block's <c>upsamplers</c> ModuleList holding one Upsample2D.</summary>
    public static ModuleNode List(string blockPath, int channels) =>
        TorchLayers.ModuleList(ModulePath.Join(blockPath, "upsamplers"), 1, (itemPath, _) => Build(itemPath, channels));
}
