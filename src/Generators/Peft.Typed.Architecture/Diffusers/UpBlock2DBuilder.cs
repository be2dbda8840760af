using System.Collections.Generic;
using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>diffusers UpBlock2D: resnets fed [hidden, skip] concatenations, then upsamplers (all blocks but the last).</summary>
internal static class UpBlock2DBuilder
{
    public static ModuleNode Build(string path, int layers, int inChannels, int prevOutputChannels, int outChannels, bool addUpsample, ResnetSettings resnet)
    {
        var children = new List<ModuleNode>(2)
        {
            Resnets(path, layers, inChannels, prevOutputChannels, outChannels, resnet),
        };
        if (addUpsample) children.Add(Upsample2DBuilder.List(path, outChannels));
        return TorchLayers.Module(path, "UpBlock2D", ModuleOptions.Empty, children);
    }

    /// <summary>
    /// Resnet i takes the running hidden state (prev_output_channel for the first, the block width after) plus a
    /// skip tensor (the block width, except the last one which comes from the next-shallower level: in_channels).
    /// </summary>
    public static ModuleNode Resnets(string blockPath, int layers, int inChannels, int prevOutputChannels, int outChannels, ResnetSettings resnet) =>
        TorchLayers.ModuleList(ModulePath.Join(blockPath, "resnets"), layers, (itemPath, i) =>
        {
            var skipChannels = i == layers - 1 ? inChannels : outChannels;
            var hiddenChannels = i == 0 ? prevOutputChannels : outChannels;
            return ResnetBlock2DBuilder.Build(itemPath, hiddenChannels + skipChannels, outChannels, resnet);
        });
}
