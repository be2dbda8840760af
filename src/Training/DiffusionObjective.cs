using Peft.Typed.Models.Schedulers;

namespace Peft.Typed.Training;

/// <summary>The settings of the diffusion fine-tuning objective (<see cref="DiffusionTrainingStep"/>), as diffusers' DreamBooth scripts name them.</summary>
public sealed record DiffusionObjective
{
    /// <summary>The prediction target (<c>--prediction_type</c>); null: the noise scheduler config's.</summary>
    public PredictionType? PredictionType { get; init; }

    /// <summary>Min-SNR loss weighting gamma (<c>--snr_gamma</c>); null disables it.</summary>
    public double? SnrGamma { get; init; }

    /// <summary>Weight of the prior-preservation term (<c>--prior_loss_weight</c>).</summary>
    public double PriorLossWeight { get; init; } = 1.0;

    /// <summary>Offset noise (<c>--noise_offset</c>): a per-channel constant added to the noise; 0 disables it.</summary>
    public double NoiseOffset { get; init; }
}
