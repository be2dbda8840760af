using System.Collections.Generic;
using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>
/// diffusers ResnetBlock2D: norm1, conv1, time_emb_proj (when there is a time embedding), norm2, dropout, conv2,
/// nonlinearity, and a 1x1 conv_shortcut only when the channel count changes.
/// </summary>
internal static class ResnetBlock2DBuilder
{
    public static ModuleNode Build(string path, int inChannels, int outChannels, ResnetSettings s)
    {
        var hasShortcut = inChannels != outChannels;
        var children = new List<ModuleNode>(8)
        {
            TorchLayers.GroupNorm(ModulePath.Join(path, "norm1"), s.Groups, inChannels, s.Eps),
            TorchLayers.Conv2d(ModulePath.Join(path, "conv1"), inChannels, outChannels, kernelSize: 3, padding: 1),
        };
        if (s.TembChannels is int tembChannels) children.Add(TorchLayers.Linear(ModulePath.Join(path, "time_emb_proj"), tembChannels, outChannels));
        children.Add(TorchLayers.GroupNorm(ModulePath.Join(path, "norm2"), s.Groups, outChannels, s.Eps));
        children.Add(TorchLayers.Dropout(ModulePath.Join(path, "dropout"), s.Dropout));
        children.Add(TorchLayers.Conv2d(ModulePath.Join(path, "conv2"), outChannels, outChannels, kernelSize: 3, padding: 1));
        children.Add(TorchLayers.Activation(ModulePath.Join(path, "nonlinearity"), s.ActivationClass));
        if (hasShortcut) children.Add(TorchLayers.Conv2d(ModulePath.Join(path, "conv_shortcut"), inChannels, outChannels, kernelSize: 1));

        var options = ModuleOptions.Of(
            ("in_channels", inChannels),
            ("out_channels", outChannels),
            ("eps", s.Eps),
            ("output_scale_factor", s.OutputScaleFactor),
            ("time_embedding_norm", s.TimeEmbeddingNorm),
            ("has_conv_shortcut", hasShortcut));
        return TorchLayers.Module(path, "ResnetBlock2D", options, children);
    }
}
