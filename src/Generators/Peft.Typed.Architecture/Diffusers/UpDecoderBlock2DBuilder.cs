using System.Collections.Generic;
using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>diffusers UpDecoderBlock2D (VAE decoder): resnets without skips or time embedding, then upsamplers.</summary>
internal static class UpDecoderBlock2DBuilder
{
    public static ModuleNode Build(string path, int layers, int inChannels, int outChannels, bool addUpsample, ResnetSettings resnet)
    {
        var children = new List<ModuleNode>(2)
        {
            DownBlock2DBuilder.Resnets(path, layers, inChannels, outChannels, resnet),
        };
        if (addUpsample) children.Add(Upsample2DBuilder.List(path, outChannels));
        return TorchLayers.Module(path, "UpDecoderBlock2D", ModuleOptions.Empty, children);
    }
}
