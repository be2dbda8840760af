using System.Collections.Generic;
using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>
/// diffusers CrossAttnDownBlock2D: attentions (one Transformer2DModel per resnet), resnets, downsamplers.
/// The attentions ModuleList is registered before the resnets.
/// </summary>
internal static class CrossAttnDownBlock2DBuilder
{
    public static ModuleNode Build(
        string path, int layers, int inChannels, int outChannels, bool addDownsample, int downsamplePadding, ResnetSettings resnet, TransformerSettings transformer)
    {
        var children = new List<ModuleNode>(3)
        {
            TorchLayers.ModuleList(ModulePath.Join(path, "attentions"), layers, (itemPath, _) => Transformer2DModelBuilder.Build(itemPath, outChannels, transformer)),
            DownBlock2DBuilder.Resnets(path, layers, inChannels, outChannels, resnet),
        };
        if (addDownsample) children.Add(Downsample2DBuilder.List(path, outChannels, downsamplePadding));
        return TorchLayers.Module(path, "CrossAttnDownBlock2D", ModuleOptions.Empty, children);
    }
}
