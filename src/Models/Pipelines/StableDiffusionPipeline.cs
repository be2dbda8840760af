using Peft.Typed.Models.Clip;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Pipelines;

/// <summary>
/// Text to image with Stable Diffusion 1.x/2.x, as diffusers' <c>StableDiffusionPipeline</c>: one CLIP text encoder
/// whose last hidden state conditions the UNet (with a clip skip: the hidden state that many layers earlier, through
/// final_layer_norm), then the shared sampling and decoding of <see cref="DiffusionPipeline"/>.
/// </summary>
public sealed class StableDiffusionPipeline : DiffusionPipeline
{
    /// <summary>
    /// Builds a pipeline from models in memory and takes ownership of them (<see cref="DiffusionPipeline.Dispose()"/>
    /// disposes them). The models must fit together: UNet in_channels = VAE latent_channels, UNet cross_attention_dim =
    /// the text encoder's hidden size, and no added embedding.
    /// </summary>
    /// <exception cref="ArgumentException">The components do not fit together; the message names the configs' keys and values.</exception>
    public StableDiffusionPipeline(StableDiffusionComponents components)
        : base(Checked(components).Unet, components.Vae, components.TextEncoder, components.Tokenizer, components.SchedulerConfig)
    {
    }

    /// <summary>Loads a diffusers <c>StableDiffusionPipeline</c> folder; see <see cref="DiffusionPipeline.FromPretrained"/>.</summary>
    /// <exception cref="InvalidDataException">The folder holds another pipeline class (e.g. SDXL), or as <see cref="DiffusionPipeline.FromPretrained"/>.</exception>
    public static new StableDiffusionPipeline FromPretrained(string folder, ScalarType? dtype = null, Device? device = null) =>
        (StableDiffusionPipeline)Load(folder, dtype, device, storedDTypes: false, PipelineIndex.StableDiffusionClassName);

    private protected override int MaxClipSkip => TextEncoder.Config.NumHiddenLayers;

    private protected override PromptEmbeddings EncodeCheckedPrompt(IReadOnlyList<string> prompts, IReadOnlyList<string>? negativePrompts, bool classifierFreeGuidance, int? clipSkip)
    {
        var embeds = Embeds(prompts, clipSkip);
        var negative = classifierFreeGuidance ? Embeds(negativePrompts ?? Empty(prompts.Count), clipSkip: null) : null;
        return new PromptEmbeddings(embeds.MoveToOuterDisposeScope(), negative?.MoveToOuterDisposeScope());
    }

    private protected override (Tensor TextEmbeds, Tensor TimeIds)? AddedConditions(PromptEmbeddings embeddings, bool guidance, int perPrompt, long rows, int height, int width, GenerationOptions options) => null;

    private Tensor Embeds(IReadOnlyList<string> prompts, int? clipSkip)
    {
        var output = TextEncoder.call(TokenIds(Tokenizer, prompts, DeviceOf(TextEncoder)));
        return clipSkip is { } skip
            ? TextEncoder.TextModel.FinalLayerNorm.call(output.HiddenStates[^(skip + 1)])
            : output.LastHiddenState;
    }

    private static StableDiffusionComponents Checked(StableDiffusionComponents components)
    {
        ArgumentNullException.ThrowIfNull(components);
        CheckCompatible(components.Unet, components.Vae, [(components.TextEncoder.Config, "text_encoder")], nameof(components));
        if (components.Unet.Config.AdditionEmbedType is { } added)
            throw new ArgumentException($"unet addition_embed_type '{added}' needs an SDXL pipeline (text_encoder_2, tokenizer_2).", nameof(components));
        return components;
    }
}
