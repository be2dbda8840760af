using System.Collections.Generic;
using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>diffusers DownEncoderBlock2D (VAE encoder): resnets without time embedding, then downsamplers (padding 0).</summary>
internal static class DownEncoderBlock2DBuilder
{
    public static ModuleNode Build(string path, int layers, int inChannels, int outChannels, bool addDownsample, ResnetSettings resnet)
    {
        var children = new List<ModuleNode>(2)
        {
            DownBlock2DBuilder.Resnets(path, layers, inChannels, outChannels, resnet),
        };
        if (addDownsample) children.Add(Downsample2DBuilder.List(path, outChannels, padding: 0));
        return TorchLayers.Module(path, "DownEncoderBlock2D", ModuleOptions.Empty, children);
    }
}
