using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>
/// diffusers UNetMidBlock2DCrossAttn (num_layers 1): attentions = [Transformer2DModel], resnets = [ResnetBlock2D] * 2,
/// all at the last block width. diffusers does not pass only_cross_attention to it.
/// </summary>
internal static class UNetMidBlock2DCrossAttnBuilder
{
    public static ModuleNode Build(string path, int channels, ResnetSettings resnet, TransformerSettings transformer) =>
        TorchLayers.Module(
            path,
            "UNetMidBlock2DCrossAttn",
            TorchLayers.ModuleList(ModulePath.Join(path, "attentions"), 1, (itemPath, _) => Transformer2DModelBuilder.Build(itemPath, channels, transformer)),
            TorchLayers.ModuleList(ModulePath.Join(path, "resnets"), 2, (itemPath, _) => ResnetBlock2DBuilder.Build(itemPath, channels, channels, resnet)));
}
