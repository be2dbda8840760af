using System.Collections.Generic;

namespace Peft.Typed.Architecture.Targeting;

/// <summary>
/// The <c>target_modules</c> lists of the two PEFT DreamBooth scripts this project reproduces, kept as written
/// (dead entries included) so presets built from them report what PEFT silently ignores.
/// </summary>
public static class SeedTargetLists
{
    /// <summary>
    /// PEFT <c>examples/lora_dreambooth/train_dreambooth.py</c> <c>UNET_TARGET_MODULES</c>. <c>query</c> and
    /// <c>value</c> are attention names of diffusers before 0.15; no module of today's UNet has them.
    /// </summary>
    public static readonly IReadOnlyList<string> MinimalUNet = new[] { "to_q", "to_v", "query", "value" };

    /// <summary>PEFT <c>examples/lora_dreambooth/train_dreambooth.py</c> <c>TEXT_ENCODER_TARGET_MODULES</c>.</summary>
    public static readonly IReadOnlyList<string> MinimalTextEncoder = new[] { "q_proj", "v_proj" };

    /// <summary>PEFT <c>examples/stable_diffusion/train_dreambooth.py</c> <c>UNET_TARGET_MODULES</c>.</summary>
    public static readonly IReadOnlyList<string> ComprehensiveUNet = new[]
    {
        "to_q", "to_k", "to_v", "proj", "proj_in", "proj_out", "conv", "conv1", "conv2", "conv_shortcut", "to_out.0", "time_emb_proj", "ff.net.2",
    };

    /// <summary>PEFT <c>examples/stable_diffusion/train_dreambooth.py</c> <c>TEXT_ENCODER_TARGET_MODULES</c>.</summary>
    public static readonly IReadOnlyList<string> ComprehensiveTextEncoder = new[] { "fc1", "fc2", "q_proj", "k_proj", "v_proj", "out_proj" };
}
