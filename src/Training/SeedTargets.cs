using Peft.Typed.Architecture.Targeting;

namespace Peft.Typed.Training;

/// <summary>
/// The <c>target_modules</c> of PEFT's two DreamBooth seed scripts as values for an adapter config. Typed classes offer
/// the same lists checked against their model (<c>Sd15Unet.Targets.Comprehensive</c>, <c>Sd15Unet.Targets.Minimal</c>).
/// </summary>
public static class SeedTargets
{
    /// <summary>examples/stable_diffusion/train_dreambooth.py: every attention, projection, convolution and MLP layer.</summary>
    public static TargetModules UnetComprehensive { get; } = TargetModules.FromNames(SeedTargetLists.UnetComprehensive);

    /// <summary>examples/lora_dreambooth: <c>to_q</c>, <c>to_v</c> (without the script's dead <c>query</c>, <c>value</c>).</summary>
    public static TargetModules UnetMinimal { get; } = TargetModules.FromNames(SeedTargetLists.UnetMinimal);

    /// <summary>examples/stable_diffusion/train_dreambooth.py: <c>fc1</c>, <c>fc2</c>, <c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>, <c>out_proj</c>.</summary>
    public static TargetModules TextEncoderComprehensive { get; } = TargetModules.FromNames(SeedTargetLists.TextEncoderComprehensive);

    /// <summary>examples/lora_dreambooth: <c>q_proj</c>, <c>v_proj</c>.</summary>
    public static TargetModules TextEncoderMinimal { get; } = TargetModules.FromNames(SeedTargetLists.TextEncoderMinimal);
}
