using System.Collections.Generic;
using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>diffusers DownBlock2D: resnets, then downsamplers (all blocks but the last).</summary>
internal static class DownBlock2DBuilder
{
    public static ModuleNode Build(string path, int layers, int inChannels, int outChannels, bool addDownsample, int downsamplePadding, ResnetSettings resnet)
    {
        var children = new List<ModuleNode>(2)
        {
            Resnets(path, layers, inChannels, outChannels, resnet),
        };
        if (addDownsample) children.Add(Downsample2DBuilder.List(path, outChannels, downsamplePadding));
        return TorchLayers.Module(path, "DownBlock2D", ModuleOptions.Empty, children);
    }

    /// <summary>The resnets of a down block: the first takes the block input, the others the block width.</summary>
    public static ModuleNode Resnets(string blockPath, int layers, int inChannels, int outChannels, ResnetSettings resnet) =>
        TorchLayers.ModuleList(ModulePath.Join(blockPath, "resnets"), layers, (itemPath, i) =>
            ResnetBlock2DBuilder.Build(itemPath, i == 0 ? inChannels : outChannels, outChannels, resnet));
}
