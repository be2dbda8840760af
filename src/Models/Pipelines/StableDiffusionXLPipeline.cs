using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Tokenizers;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Pipelines;

/// <summary>
/// Text to image with Stable Diffusion XL, as diffusers' <c>StableDiffusionXLPipeline</c>: two text encoders (the
/// penultimate hidden states, without final_layer_norm, of both concatenated, and text_encoder_2's projected pooled
/// output; clip skip moves further from the end), the size micro-conditioning <c>add_time_ids</c>, then the shared
/// sampling and decoding of <see cref="DiffusionPipeline"/>.
/// </summary>
public sealed class StableDiffusionXLPipeline : DiffusionPipeline
{
    /// <summary>
    /// Builds a pipeline from models in memory and takes ownership of them (<see cref="DiffusionPipeline.Dispose()"/>
    /// disposes them). The models must fit together: UNet in_channels = VAE latent_channels, UNet cross_attention_dim =
    /// the sum of the text encoders' hidden sizes, and the UNet's added-embedding width.
    /// </summary>
    /// <exception cref="ArgumentException">The components do not fit together; the message names the configs' keys and values.</exception>
    public StableDiffusionXLPipeline(StableDiffusionXLComponents components)
        : base(Checked(components).Unet, components.Vae, components.TextEncoder, components.Tokenizer, components.SchedulerConfig)
    {
        TextEncoder2 = components.TextEncoder2;
        Tokenizer2 = components.Tokenizer2;
        ForceZerosForEmptyPrompt = components.ForceZerosForEmptyPrompt;
    }

    /// <summary>The second text encoder (OpenCLIP ViT-bigG).</summary>
    public CLIPTextModelWithProjection TextEncoder2 { get; }

    public ClipTokenizer Tokenizer2 { get; }

    /// <summary><c>force_zeros_for_empty_prompt</c> (model_index.json): zeros as the unconditional embeddings when no negative prompt is given.</summary>
    public bool ForceZerosForEmptyPrompt { get; }

    public override IReadOnlyDictionary<string, nn.Module> Models => new Dictionary<string, nn.Module>(base.Models, StringComparer.Ordinal)
    {
        ["text_encoder_2"] = TextEncoder2,
    };

    /// <summary>Loads a diffusers <c>StableDiffusionXLPipeline</c> folder; see <see cref="DiffusionPipeline.FromPretrained"/>.</summary>
    /// <exception cref="InvalidDataException">The folder holds another pipeline class, or as <see cref="DiffusionPipeline.FromPretrained"/>.</exception>
    public static new StableDiffusionXLPipeline FromPretrained(string folder, ScalarType? dtype = null, Device? device = null) =>
        (StableDiffusionXLPipeline)Load(folder, dtype, device, storedDTypes: false, PipelineIndex.StableDiffusionXLClassName);

    private protected override int MaxClipSkip => Math.Min(TextEncoder.Config.NumHiddenLayers, TextEncoder2.Config.NumHiddenLayers) - 1;

    private protected override PromptEmbeddings EncodeCheckedPrompt(IReadOnlyList<string> prompts, IReadOnlyList<string>? negativePrompts, bool classifierFreeGuidance, int? clipSkip)
    {
        var (embeds, pooled) = Embeds(prompts, clipSkip);
        Tensor? negativeEmbeds = null, negativePooled = null;
        if (classifierFreeGuidance && negativePrompts is null && ForceZerosForEmptyPrompt)
        {
            negativeEmbeds = zeros_like(embeds);
            negativePooled = zeros_like(pooled);
        }
        else if (classifierFreeGuidance)
        {
            (negativeEmbeds, negativePooled) = Embeds(negativePrompts ?? Empty(prompts.Count), clipSkip: null);
        }
        return new PromptEmbeddings(embeds.MoveToOuterDisposeScope(), negativeEmbeds?.MoveToOuterDisposeScope(),
            pooled.MoveToOuterDisposeScope(), negativePooled?.MoveToOuterDisposeScope());
    }

    /// <summary>The pooled embeddings as <c>text_embeds</c> and <c>add_time_ids</c> (original size, crop top-left, target size) per row.</summary>
    private protected override (Tensor TextEmbeds, Tensor TimeIds)? AddedConditions(PromptEmbeddings embeddings, bool guidance, int perPrompt, long rows, int height, int width, GenerationOptions options)
    {
        var pooled = embeddings.PooledPromptEmbeds!.to(DType, Device).repeat_interleave(perPrompt, dim: 0);
        var textEmbeds = guidance ? cat([embeddings.NegativePooledPromptEmbeds!.to(DType, Device).repeat_interleave(perPrompt, dim: 0), pooled], 0) : pooled;
        var timeIds = SdxlConditioning.AddTimeIds(options.OriginalSize ?? (height, width), options.CropsCoordsTopLeft, options.TargetSize ?? (height, width), DType, Device)
            .expand(rows, -1);
        return (textEmbeds, timeIds);
    }

    private protected override void CheckEmbeddings(PromptEmbeddings embeddings, bool guidance)
    {
        base.CheckEmbeddings(embeddings, guidance);
        if (embeddings.PooledPromptEmbeds is null)
            throw new ArgumentException("An SDXL pipeline needs PooledPromptEmbeds.", nameof(embeddings));
        if (guidance && embeddings.NegativePooledPromptEmbeds is null)
            throw new ArgumentException("Classifier-free guidance with SDXL needs NegativePooledPromptEmbeds.", nameof(embeddings));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) TextEncoder2.Dispose();
        base.Dispose(disposing);
    }

    // SDXL always takes hidden_states[-2] ("2" because SDXL indexes from the penultimate layer), without final_layer_norm.
    private (Tensor Embeds, Tensor Pooled) Embeds(IReadOnlyList<string> prompts, int? clipSkip) =>
        SdxlConditioning.EncodePrompt(TextEncoder, TextEncoder2, TokenIds(Tokenizer, prompts, DeviceOf(TextEncoder)),
            TokenIds(Tokenizer2, prompts, DeviceOf(TextEncoder2)), fromEnd: (clipSkip ?? 0) + 2);

    private static StableDiffusionXLComponents Checked(StableDiffusionXLComponents components)
    {
        ArgumentNullException.ThrowIfNull(components);
        CheckCompatible(components.Unet, components.Vae,
            [(components.TextEncoder.Config, "text_encoder"), (components.TextEncoder2.Config, "text_encoder_2")], nameof(components));
        var unet = components.Unet.Config;
        if (unet.AdditionEmbedType != "text_time")
            throw new ArgumentException($"An SDXL pipeline needs unet addition_embed_type 'text_time', found '{unet.AdditionEmbedType ?? "null"}'.", nameof(components));
        // diffusers' _get_add_time_ids check: 6 time ids of addition_time_embed_dim each, plus the pooled projection.
        int passed = (unet.AdditionTimeEmbedDim ?? 0) * 6 + components.TextEncoder2.Config.ProjectionDim;
        if (unet.ProjectionClassEmbeddingsInputDim != passed)
            throw new ArgumentException(
                $"unet projection_class_embeddings_input_dim {unet.ProjectionClassEmbeddingsInputDim?.ToString() ?? "null"} does not match 6 × addition_time_embed_dim {unet.AdditionTimeEmbedDim?.ToString() ?? "null"} + text_encoder_2 projection_dim {components.TextEncoder2.Config.ProjectionDim} = {passed}.",
                nameof(components));
        return components;
    }
}
