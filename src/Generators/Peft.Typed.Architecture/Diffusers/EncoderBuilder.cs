using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>
/// diffusers VAE Encoder: conv_in, down_blocks, mid_block, conv_norm_out (eps 1e-6), conv_act (always SiLU),
/// conv_out to 2 * latent_channels (mean and logvar).
/// </summary>
internal static class EncoderBuilder
{
    public static ModuleNode Build(string path, AutoencoderKLConfig c, ResnetSettings resnet)
    {
        var channels = c.BlockOutChannels;
        var last = channels[channels.Count - 1];
        return TorchLayers.Module(
            path,
            "Encoder",
            TorchLayers.Conv2d(ModulePath.Join(path, "conv_in"), c.InChannels, channels[0], kernelSize: 3, padding: 1),
            TorchLayers.ModuleList(ModulePath.Join(path, "down_blocks"), channels.Count, (blockPath, i) =>
                DownEncoderBlock2DBuilder.Build(blockPath, c.LayersPerBlock, channels[System.Math.Max(i - 1, 0)], channels[i], addDownsample: i != channels.Count - 1, resnet)),
            UNetMidBlock2DBuilder.Build(ModulePath.Join(path, "mid_block"), last, resnet.WithOutputScaleFactor(1)),
            TorchLayers.GroupNorm(ModulePath.Join(path, "conv_norm_out"), c.NormNumGroups, last, 1e-6),
            TorchLayers.Activation(ModulePath.Join(path, "conv_act"), "SiLU"),
            TorchLayers.Conv2d(ModulePath.Join(path, "conv_out"), last, 2 * c.LatentChannels, kernelSize: 3, padding: 1));
    }
}
