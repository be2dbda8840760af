using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Models.Tokenizers;
using Peft.Typed.Models.Unet;
using Peft.Typed.Models.Vae;

namespace Peft.Typed.Models.Pipelines;

/// <summary>
/// The parts of a <see cref="StableDiffusionXLPipeline"/>, for building one from models in memory (e.g. a UNet being trained).
/// </summary>
/// <param name="Unet">The denoiser (<c>unet/</c>), with <c>addition_embed_type</c> "text_time".</param>
/// <param name="Vae">The autoencoder (<c>vae/</c>); its scaling_factor scales the latents.</param>
/// <param name="TextEncoder">The first CLIP text encoder (<c>text_encoder/</c>, CLIP ViT-L).</param>
/// <param name="Tokenizer">Its tokenizer (<c>tokenizer/</c>).</param>
/// <param name="TextEncoder2">The second text encoder (<c>text_encoder_2/</c>, OpenCLIP ViT-bigG), which gives the pooled embedding.</param>
/// <param name="Tokenizer2">Its tokenizer (<c>tokenizer_2/</c>).</param>
/// <param name="SchedulerConfig">The <c>scheduler/scheduler_config.json</c> of any scheduler: its betas build DDIM.</param>
public sealed record StableDiffusionXLComponents(
    UNet2DConditionModel Unet,
    AutoencoderKL Vae,
    CLIPTextModel TextEncoder,
    ClipTokenizer Tokenizer,
    CLIPTextModelWithProjection TextEncoder2,
    ClipTokenizer Tokenizer2,
    SchedulerConfig SchedulerConfig)
{
    /// <summary>Zero unconditional embeddings when no negative prompt is given (model_index.json, default true).</summary>
    public bool ForceZerosForEmptyPrompt { get; init; } = true;
}
