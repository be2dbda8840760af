namespace Peft.Typed.Training.Optimization;

/// <summary>
/// The settings of <see cref="Prodigy"/> besides the Adam ones (betas, epsilon, weight decay); defaults are those of the
/// <c>prodigyopt</c> package's <c>Prodigy</c> (Mishchenko and Defazio, "Prodigy: An Expeditiously Adaptive
/// Parameter-Free Learner", arXiv:2306.06101).
/// </summary>
public sealed record ProdigyOptions
{
    /// <summary>Decay of the step-size estimate's running sums; null: sqrt(beta2).</summary>
    public double? Beta3 { get; init; }
    /// <summary>AdamW-style weight decay (true) or an L2 term added to the gradient (false).</summary>
    public bool Decouple { get; init; } = true;
    /// <summary>Adam's bias correction folded into the step size.</summary>
    public bool UseBiasCorrection { get; init; }
    /// <summary>Leaves the learning rate out of the denominator of the D estimate (for warm-up schedules).</summary>
    public bool SafeguardWarmup { get; init; }
    /// <summary>Initial D estimate.</summary>
    public double D0 { get; init; } = 1e-6;
    /// <summary>Multiplies the D estimate; the preferred knob for tuning.</summary>
    public double DCoef { get; init; } = 1.0;
    /// <summary>Largest factor by which D may grow per step (infinity: unrestricted).</summary>
    public double GrowthRate { get; init; } = double.PositiveInfinity;
}
