namespace Peft.Typed.Models.Schedulers;

/// <summary>diffusers' <c>timestep_spacing</c>: how <c>set_timesteps(n)</c> picks n of the training timesteps.</summary>
public enum TimestepSpacing
{
    /// <summary><c>"leading"</c>: <c>(n−1−i)·(T // n) + steps_offset</c>.</summary>
    Leading,

    /// <summary><c>"trailing"</c>: <c>round(arange(T, 0, −T/n)) − 1</c>, so the first step is T−1.</summary>
    Trailing,

    /// <summary><c>"linspace"</c>: <c>round(linspace(0, T−1, n))</c>, reversed.</summary>
    Linspace,
}
