using System.Collections.Generic;

namespace Peft.Typed.Architecture.Configs;

/// <summary>
/// <c>vae/config.json</c> of a diffusers <c>AutoencoderKL</c>: one property per constructor argument of diffusers
/// 0.27.2 (JSON key in each summary), with the diffusers default for keys missing from the file.
/// </summary>
public sealed class AutoencoderKLConfig : ArchitectureConfig
{
    public override ArchitectureKind Kind => ArchitectureKind.AutoencoderKL;

    /// <summary><c>in_channels</c>: image channels.</summary>
    public int InChannels { get; set; } = 3;

    /// <summary><c>out_channels</c>: decoded image channels.</summary>
    public int OutChannels { get; set; } = 3;

    /// <summary><c>down_block_types</c>: DownEncoderBlock2D.</summary>
    public IReadOnlyList<string> DownBlockTypes { get; set; } = new[] { "DownEncoderBlock2D" };

    /// <summary><c>up_block_types</c>: UpDecoderBlock2D.</summary>
    public IReadOnlyList<string> UpBlockTypes { get; set; } = new[] { "UpDecoderBlock2D" };

    /// <summary><c>block_out_channels</c>: one width per encoder down block (the decoder uses them reversed).</summary>
    public IReadOnlyList<int> BlockOutChannels { get; set; } = new[] { 64 };

    /// <summary><c>layers_per_block</c>: resnets per encoder block (decoder blocks get one more).</summary>
    public int LayersPerBlock { get; set; } = 1;

    /// <summary><c>act_fn</c>: activation of the resnets (silu/swish, mish, gelu, relu); conv_act is always SiLU.</summary>
    public string ActFn { get; set; } = "silu";

    /// <summary><c>latent_channels</c>.</summary>
    public int LatentChannels { get; set; } = 4;

    /// <summary><c>norm_num_groups</c>.</summary>
    public int NormNumGroups { get; set; } = 32;

    /// <summary><c>sample_size</c>: informational (tiling only), int or [h, w].</summary>
    public ScalarOrList<int> SampleSize { get; set; } = 32;

    /// <summary><c>scaling_factor</c>: pipelines multiply latents by it after encoding (SD 0.18215, SDXL 0.13025).</summary>
    public double ScalingFactor { get; set; } = 0.18215;

    /// <summary><c>latents_mean</c>: per-channel latent mean, or null.</summary>
    public IReadOnlyList<double>? LatentsMean { get; set; }

    /// <summary><c>latents_std</c>: per-channel latent std, or null.</summary>
    public IReadOnlyList<double>? LatentsStd { get; set; }

    /// <summary><c>force_upcast</c>: pipelines run the VAE in float32 even when the rest is float16.</summary>
    public bool ForceUpcast { get; set; } = true;
}
