using Peft.Typed.Architecture.Configs;

namespace Peft.Typed.Architecture.Reading;

/// <summary>Reads every AutoencoderKL key of diffusers 0.27.2; a missing key keeps the constructor default.</summary>
internal static class AutoencoderKLConfigReader
{
    public static AutoencoderKLConfig Read(ConfigReader r)
    {
        var d = new AutoencoderKLConfig();
        var config = new AutoencoderKLConfig
        {
            InChannels = r.Int("in_channels", d.InChannels),
            OutChannels = r.Int("out_channels", d.OutChannels),
            DownBlockTypes = r.StringList("down_block_types", d.DownBlockTypes),
            UpBlockTypes = r.StringList("up_block_types", d.UpBlockTypes),
            BlockOutChannels = r.IntList("block_out_channels", d.BlockOutChannels),
            LayersPerBlock = r.Int("layers_per_block", d.LayersPerBlock),
            ActFn = r.String("act_fn", d.ActFn),
            LatentChannels = r.Int("latent_channels", d.LatentChannels),
            NormNumGroups = r.Int("norm_num_groups", d.NormNumGroups),
            SampleSize = r.IntOrList("sample_size", d.SampleSize),
            ScalingFactor = r.Double("scaling_factor", d.ScalingFactor),
            LatentsMean = r.NullableDoubleList("latents_mean"),
            LatentsStd = r.NullableDoubleList("latents_std"),
            ForceUpcast = r.Bool("force_upcast", d.ForceUpcast),
        };
        r.WarnAboutUnknownKeys(config.ClassName);
        return config;
    }
}
