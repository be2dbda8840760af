using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>
/// diffusers VAE Decoder: conv_in, up_blocks (registered before mid_block), mid_block, conv_norm_out (eps 1e-6),
/// conv_act (always SiLU), conv_out. Up blocks run the widths reversed with layers_per_block + 1 resnets.
/// </summary>
internal static class DecoderBuilder
{
    public static ModuleNode Build(string path, AutoencoderKLConfig c, ResnetSettings resnet)
    {
        var channels = c.BlockOutChannels;
        var last = channels.Count - 1;
        // Decoder up blocks pass norm_type "group" as resnet_time_scale_shift; the mid block gets "default".
        var upResnet = new ResnetSettings(resnet.TembChannels, resnet.Eps, resnet.Groups, resnet.Dropout, "group", resnet.ActivationClass, resnet.OutputScaleFactor);
        return TorchLayers.Module(
            path,
            "Decoder",
            TorchLayers.Conv2d(ModulePath.Join(path, "conv_in"), c.LatentChannels, channels[last], kernelSize: 3, padding: 1),
            TorchLayers.ModuleList(ModulePath.Join(path, "up_blocks"), channels.Count, (blockPath, i) =>
                UpDecoderBlock2DBuilder.Build(blockPath, c.LayersPerBlock + 1, channels[last - System.Math.Max(i - 1, 0)], channels[last - i], addUpsample: i != last, upResnet)),
            UNetMidBlock2DBuilder.Build(ModulePath.Join(path, "mid_block"), channels[last], resnet.WithOutputScaleFactor(1)),
            TorchLayers.GroupNorm(ModulePath.Join(path, "conv_norm_out"), c.NormNumGroups, channels[0], 1e-6),
            TorchLayers.Activation(ModulePath.Join(path, "conv_act"), "SiLU"),
            TorchLayers.Conv2d(ModulePath.Join(path, "conv_out"), channels[0], c.OutChannels, kernelSize: 3, padding: 1));
    }
}
