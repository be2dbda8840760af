namespace Peft.Typed.Models.Schedulers;

/// <summary>diffusers' <c>beta_schedule</c>: how the 1000 (num_train_timesteps) noise variances are laid out.</summary>
public enum BetaSchedule
{
    /// <summary><c>"linear"</c>: <c>linspace(beta_start, beta_end)</c> in float32.</summary>
    Linear,

    /// <summary><c>"scaled_linear"</c> (Stable Diffusion): <c>linspace(sqrt(beta_start), sqrt(beta_end))**2</c> in float32.</summary>
    ScaledLinear,

    /// <summary><c>"squaredcos_cap_v2"</c>: the Glide cosine schedule, betas capped at 0.999.</summary>
    SquaredCosCapV2,
}
