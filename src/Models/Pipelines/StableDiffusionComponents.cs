using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Models.Tokenizers;
using Peft.Typed.Models.Unet;
using Peft.Typed.Models.Vae;

namespace Peft.Typed.Models.Pipelines;

/// <summary>
/// The parts of a <see cref="StableDiffusionPipeline"/>, for building one from models in memory (e.g. a UNet being
/// trained). With <see cref="TextEncoder2"/> and <see cref="Tokenizer2"/> it is an SDXL pipeline.
/// </summary>
/// <param name="Unet">The denoiser (<c>unet/</c>).</param>
/// <param name="Vae">The autoencoder (<c>vae/</c>); its scaling_factor scales the latents.</param>
/// <param name="TextEncoder">The (first) CLIP text encoder (<c>text_encoder/</c>).</param>
/// <param name="Tokenizer">Its tokenizer (<c>tokenizer/</c>).</param>
/// <param name="SchedulerConfig">The <c>scheduler/scheduler_config.json</c> of any scheduler: its betas build DDIM and DDPM.</param>
public sealed record StableDiffusionComponents(
    UNet2DConditionModel Unet,
    AutoencoderKL Vae,
    CLIPTextModel TextEncoder,
    ClipTokenizer Tokenizer,
    SchedulerConfig SchedulerConfig)
{
    /// <summary>SDXL's second text encoder (<c>text_encoder_2/</c>), which gives the pooled embedding.</summary>
    public CLIPTextModelWithProjection? TextEncoder2 { get; init; }

    /// <summary>SDXL's second tokenizer (<c>tokenizer_2/</c>).</summary>
    public ClipTokenizer? Tokenizer2 { get; init; }

    /// <summary>SDXL: zero unconditional embeddings when no negative prompt is given (model_index.json, default true).</summary>
    public bool ForceZerosForEmptyPrompt { get; init; } = true;
}
