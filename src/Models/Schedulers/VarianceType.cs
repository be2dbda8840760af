namespace Peft.Typed.Models.Schedulers;

/// <summary>DDPM's <c>variance_type</c> for the noise added by a sampling step.</summary>
public enum VarianceType
{
    /// <summary><c>"fixed_small"</c>: the posterior variance <c>(1−ā_prev)/(1−ā_t)·β_t</c>, clamped at 1e-20.</summary>
    FixedSmall,
}
