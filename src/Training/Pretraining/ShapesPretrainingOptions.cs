using Peft.Typed.Training.Data.Shapes;

namespace Peft.Typed.Training.Pretraining;

/// <summary>
/// Settings of <see cref="ShapesPretraining"/>: full-parameter training of a tiny Stable Diffusion (VAE first, then the
/// UNet and the text encoder on the VAE's latents) on the captioned-shapes data set. The defaults are the embedded model's recipe.
/// </summary>
public sealed record ShapesPretrainingOptions
{
    /// <summary>Seeds the weights' initialisation, the data set's split and renders, and every random draw of training.</summary>
    public int Seed { get; init; }

    /// <summary>Image size in pixels (square).</summary>
    public int Resolution { get; init; } = 64;

    /// <summary>Scenes never trained on; the agreement check generates their captions.</summary>
    public int HeldBackScenes { get; init; } = 24;

    /// <summary>Jittered renders of every training scene (the training images).</summary>
    public int RendersPerScene { get; init; } = 8;

    public int VaeSteps { get; init; } = 1200;
    public int VaeBatchSize { get; init; } = 8;
    public double VaeLearningRate { get; init; } = 1e-3;

    /// <summary>Weight of the KL term (per latent element) against the per-pixel reconstruction MSE.</summary>
    public double VaeKlWeight { get; init; } = 1e-4;

    public int UnetSteps { get; init; } = 2400;
    public int UnetBatchSize { get; init; } = 32;
    public double UnetLearningRate { get; init; } = 1e-3;
    public int WarmupSteps { get; init; } = 200;

    /// <summary>Fraction of UNet examples trained on the empty caption, so classifier-free guidance works.</summary>
    public double CaptionDropout { get; init; } = 0.1;

    /// <summary>Decay of the exponential moving average of the UNet's and text encoder's weights, which is what gets saved.</summary>
    public double EmaDecay { get; init; } = 0.999;

    /// <summary>Min-SNR weighting γ of the UNet loss.</summary>
    public double SnrGamma { get; init; } = 5;

    public double MaxGradNorm { get; init; } = 1;

    /// <summary>
    /// The classifier-free guidance scale the trained model is checked (and meant to be sampled) at. Chosen on training
    /// captions, never on the held-back ones: with 10 % dropped captions and this few steps the unconditional prediction
    /// is weak, and guidance far above 1 overshoots colours (docs/training.md has the sweep).
    /// </summary>
    public double GuidanceScale { get; init; } = 1.5;

    /// <summary>Validates the settings; the message names the setting.</summary>
    internal void Validate()
    {
        static void Positive(string name, double value)
        {
            if (!(value > 0)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive, not {value}.");
        }
        Positive(nameof(Resolution), Resolution);
        Positive(nameof(RendersPerScene), RendersPerScene);
        Positive(nameof(VaeBatchSize), VaeBatchSize);
        Positive(nameof(UnetBatchSize), UnetBatchSize);
        Positive(nameof(VaeLearningRate), VaeLearningRate);
        Positive(nameof(UnetLearningRate), UnetLearningRate);
        Positive(nameof(MaxGradNorm), MaxGradNorm);
        Positive(nameof(GuidanceScale), GuidanceScale);
        Positive(nameof(VaeSteps), VaeSteps);
        Positive(nameof(UnetSteps), UnetSteps);
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, $"WarmupSteps must be 0 or more, not {WarmupSteps}.");
        if (HeldBackScenes < 0 || HeldBackScenes >= ShapeScenes.All.Count)
            throw new ArgumentOutOfRangeException(nameof(HeldBackScenes), HeldBackScenes, $"HeldBackScenes must be 0 to {ShapeScenes.All.Count - 1}, not {HeldBackScenes}.");
        if (CaptionDropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(CaptionDropout), CaptionDropout, $"CaptionDropout must be in [0, 1), not {CaptionDropout}.");
        if (EmaDecay is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(EmaDecay), EmaDecay, $"EmaDecay must be in [0, 1), not {EmaDecay}.");
    }
}
