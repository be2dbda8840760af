using System.Collections.Generic;
using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>diffusers CrossAttnUpBlock2D: attentions, resnets (skip concatenations as in UpBlock2D), upsamplers.</summary>
internal static class CrossAttnUpBlock2DBuilder
{
    public static ModuleNode Build(
        string path, int layers, int inChannels, int prevOutputChannels, int outChannels, bool addUpsample, ResnetSettings resnet, TransformerSettings transformer)
    {
        var children = new List<ModuleNode>(3)
        {
            TorchLayers.ModuleList(ModulePath.Join(path, "attentions"), layers, (itemPath, _) => Transformer2DModelBuilder.Build(itemPath, outChannels, transformer)),
            UpBlock2DBuilder.Resnets(path, layers, inChannels, prevOutputChannels, outChannels, resnet),
        };
        if (addUpsample) children.Add(Upsample2DBuilder.List(path, outChannels));
        return TorchLayers.Module(path, "CrossAttnUpBlock2D", ModuleOptions.Empty, children);
    }
}
