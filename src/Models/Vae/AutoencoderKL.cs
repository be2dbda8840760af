using System.Text.RegularExpressions;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Diffusers;
using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Loading;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Vae;

/// <summary>
/// diffusers <c>AutoencoderKL</c>, built from its module tree. <see cref="Encode"/> gives the posterior over latents,
/// <see cref="Decode"/> maps latents back to images; <c>forward(image)</c> decodes the posterior mean. The config's
/// scaling_factor is not applied here: pipelines multiply latents by it after encoding and divide before decoding.
/// </summary>
public sealed partial class AutoencoderKL : nn.Module<Tensor, Tensor>
{
    private readonly Encoder encoder;
    private readonly Decoder decoder;
    private readonly nn.Module<Tensor, Tensor>? quant_conv;
    private readonly nn.Module<Tensor, Tensor>? post_quant_conv;

    /// <summary>
    /// Builds the model described by <paramref name="config"/>, with parameters created by <paramref name="layers"/>
    /// (randomly initialised on CPU in float32 by default; <see cref="LayerFactory.Meta"/> allocates nothing).
    /// </summary>
    public AutoencoderKL(AutoencoderKLConfig config, LayerFactory? layers = null) : base(nameof(AutoencoderKL))
    {
        Config = config;
        Tree = AutoencoderKLArchitecture.Build(config);
        layers ??= LayerFactory.Default;
        var root = Tree.Root;
        encoder = new Encoder(root.Child("encoder"), layers);
        decoder = new Decoder(root.Child("decoder"), layers);
        if (root.HasChild("quant_conv")) quant_conv = layers.Conv2d(root.Child("quant_conv"));
        if (root.HasChild("post_quant_conv")) post_quant_conv = layers.Conv2d(root.Child("post_quant_conv"));
        RegisterComponents();
    }

    /// <summary>The config, with <see cref="AutoencoderKLConfig.ScalingFactor"/> for pipelines.</summary>
    public AutoencoderKLConfig Config { get; }

    /// <summary>The module tree this model was built from: its paths and parameters are this model's names.</summary>
    public ModuleTree Tree { get; }

    /// <summary>
    /// <c>AutoencoderKL.from_pretrained(folder)</c>: <c>config.json</c> and <c>diffusion_pytorch_model.safetensors</c> (or a
    /// sharded index; fp32, fp16 or bf16; legacy attention names accepted), loaded strictly into a model of
    /// <paramref name="dtype"/> (default float32) on <paramref name="device"/> (default CPU), in eval mode.
    /// </summary>
    public static AutoencoderKL FromPretrained(string folder, ScalarType? dtype = null, Device? device = null) =>
        PretrainedFolder.Load<AutoencoderKLConfig, AutoencoderKL>(folder, "diffusion_pytorch_model", dtype, device,
            (config, layers) => new(config, layers), (model, path) => model.LoadWeights(path));

    /// <summary>Copies a safetensors checkpoint (file or shard index) into this model, mapping legacy attention names.</summary>
    public LoadReport LoadWeights(string path, bool strict = true) => StateDictLoader.Load(this, path, strict, mapKey: MapLegacyKey);

    /// <summary><c>vae.encode(image).latent_dist</c>: images in [-1, 1], [B, 3, H, W], to a posterior over [B, latent_channels, H/f, W/f].</summary>
    public DiagonalGaussianDistribution Encode(Tensor image)
    {
        using var scope = NewDisposeScope();
        var moments = encoder.call(image);
        if (quant_conv is not null) moments = quant_conv.call(moments);
        var posterior = new DiagonalGaussianDistribution(moments);
        scope.MoveToOuter(posterior.Mean, posterior.LogVar, posterior.Std, posterior.Var);
        return posterior;
    }

    /// <summary><c>vae.decode(latents).sample</c>: unscaled latents to images.</summary>
    public Tensor Decode(Tensor latents)
    {
        using var scope = NewDisposeScope();
        var z = post_quant_conv is null ? latents : post_quant_conv.call(latents);
        return decoder.call(z).MoveToOuterDisposeScope();
    }

    /// <summary><c>vae(image, sample_posterior=False).sample</c>: decode the posterior mean.</summary>
    public override Tensor forward(Tensor image)
    {
        using var scope = NewDisposeScope();
        return Decode(Encode(image).Mode()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Maps the attention key names of older VAE checkpoints (<c>query</c>, <c>key</c>, <c>value</c>, <c>proj_attn</c>) to the
    /// current ones (<c>to_q</c>, <c>to_k</c>, <c>to_v</c>, <c>to_out.0</c>), as diffusers does on load; other keys pass unchanged.
    /// </summary>
    public static string MapLegacyKey(string key)
    {
        var match = LegacyAttentionKey().Match(key);
        if (!match.Success) return key;
        var name = match.Groups[2].Value switch
        {
            "query" => "to_q",
            "key" => "to_k",
            "value" => "to_v",
            _ => "to_out.0",
        };
        return $"{match.Groups[1].Value}.{name}.{match.Groups[3].Value}";
    }

    [GeneratedRegex(@"^(.*\.attentions\.\d+)\.(query|key|value|proj_attn)\.(weight|bias)$")]
    private static partial Regex LegacyAttentionKey();
}
