using static TorchSharp.torch;

namespace Peft.Typed.Models.Pipelines;

/// <summary>
/// The arguments of diffusers' <c>StableDiffusionPipeline.__call__</c> / <c>StableDiffusionXLPipeline.__call__</c> that
/// this port supports, with diffusers' defaults.
/// </summary>
public sealed record GenerationOptions
{
    /// <summary><c>negative_prompt</c>, used for every prompt; null: the empty prompt (SDXL: zeros, see <see cref="PipelineIndex.ForceZerosForEmptyPrompt"/>). Prompt encoding only.</summary>
    public string? NegativePrompt { get; init; }

    /// <summary><c>clip_skip</c>: take the text encoder's hidden states this many layers before the last. Prompt encoding only.</summary>
    public int? ClipSkip { get; init; }

    /// <summary><c>num_inference_steps</c>, default 50.</summary>
    public int NumInferenceSteps { get; init; } = 50;

    /// <summary><c>guidance_scale</c>, default 7.5; classifier-free guidance runs only above 1 (at 1 or below the unconditional pass is skipped).</summary>
    public double GuidanceScale { get; init; } = 7.5;

    /// <summary><c>height</c> in pixels; default the UNet's sample_size times the VAE's downscaling factor.</summary>
    public int? Height { get; init; }

    /// <summary><c>width</c> in pixels; default as <see cref="Height"/>.</summary>
    public int? Width { get; init; }

    /// <summary><c>num_images_per_prompt</c>, default 1.</summary>
    public int NumImagesPerPrompt { get; init; } = 1;

    /// <summary>
    /// <c>generator</c>: draws the initial latents (on the CPU, then moved, as diffusers' <c>randn_tensor</c>) and DDIM's
    /// noise when <see cref="Eta"/> &gt; 0. The same seed gives the same images; null uses the global generator.
    /// </summary>
    public Generator? Generator { get; init; }

    /// <summary>diffusers' <c>callback_on_step_end</c>, reduced to progress: called after each denoising step with (steps done, total steps).</summary>
    public Action<int, int>? OnStep { get; init; }

    /// <summary><c>eta</c> of DDIM (0: deterministic DDIM, 1: DDPM-like), default 0.</summary>
    public double Eta { get; init; }

    /// <summary><c>latents</c>: initial noise [batch · images per prompt, in_channels, height / f, width / f] instead of drawing it.</summary>
    public Tensor? Latents { get; init; }

    /// <summary>SDXL <c>original_size</c> (height, width) of the micro-conditioning; default (height, width).</summary>
    public (int Height, int Width)? OriginalSize { get; init; }

    /// <summary>SDXL <c>crops_coords_top_left</c> (top, left), default (0, 0).</summary>
    public (int Top, int Left) CropsCoordsTopLeft { get; init; }

    /// <summary>SDXL <c>target_size</c> (height, width); default (height, width).</summary>
    public (int Height, int Width)? TargetSize { get; init; }
}
