using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Models.Tokenizers;
using Peft.Typed.Models.Unet;
using Peft.Typed.Models.Vae;

namespace Peft.Typed.Models.Pipelines;

/// <summary>
/// The parts of a <see cref="StableDiffusionPipeline"/>, for building one from models in memory (e.g. a UNet being trained).
/// </summary>
/// <param name="Unet">The denoiser (<c>unet/</c>).</param>
/// <param name="Vae">The autoencoder (<c>vae/</c>); its scaling_factor scales the latents.</param>
/// <param name="TextEncoder">The CLIP text encoder (<c>text_encoder/</c>).</param>
/// <param name="Tokenizer">Its tokenizer (<c>tokenizer/</c>).</param>
/// <param name="SchedulerConfig">The <c>scheduler/scheduler_config.json</c> of any scheduler: its betas build DDIM.</param>
public sealed record StableDiffusionComponents(
    UNet2DConditionModel Unet,
    AutoencoderKL Vae,
    CLIPTextModel TextEncoder,
    ClipTokenizer Tokenizer,
    SchedulerConfig SchedulerConfig);
