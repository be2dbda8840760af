namespace Peft.Typed.Training;

/// <summary>The target-module lists of the two seed scripts.</summary>
public enum TargetPreset
{
    /// <summary>PEFT's lora_dreambooth script: UNet <c>to_q, to_v</c>, text encoder <c>q_proj, v_proj</c>.
    /// (That script also lists <c>query, value</c>, old attention names that match nothing in current diffusers.)</summary>
    Minimal,

    /// <summary>PEFT's stable_diffusion/train_dreambooth.py lists: every attention, projection, conv and MLP layer.</summary>
    Comprehensive,
}
