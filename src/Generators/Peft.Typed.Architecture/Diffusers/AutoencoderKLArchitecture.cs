using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Tree;
using Peft.Typed.Architecture.Validation;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>
/// Builds the module tree of diffusers 0.27.2 <c>AutoencoderKL(**config)</c>: encoder, decoder, quant_conv
/// (1x1, 2 * latent channels) and post_quant_conv (1x1, latent channels). All GroupNorms use eps 1e-6.
/// </summary>
public static class AutoencoderKLArchitecture
{
    /// <summary>Checks the config (throwing <see cref="Diagnostics.ArchitectureException"/> with every problem) and builds the tree.</summary>
    public static ModuleTree Build(AutoencoderKLConfig config)
    {
        AutoencoderKLConfigValidator.Validate(config).ThrowIfAny();
        var resnet = new ResnetSettings(
            tembChannels: null,
            eps: 1e-6,
            groups: config.NormNumGroups,
            dropout: 0.0,
            timeEmbeddingNorm: "default",
            SupportedValues.DiffusersActivationClass(config.ActFn),
            outputScaleFactor: 1.0);
        var latent = config.LatentChannels;
        var root = TorchLayers.Module(
            "",
            "AutoencoderKL",
            EncoderBuilder.Build("encoder", config, resnet),
            DecoderBuilder.Build("decoder", config, resnet),
            TorchLayers.Conv2d("quant_conv", 2 * latent, 2 * latent, kernelSize: 1),
            TorchLayers.Conv2d("post_quant_conv", latent, latent, kernelSize: 1));
        return new ModuleTree(root);
    }
}
