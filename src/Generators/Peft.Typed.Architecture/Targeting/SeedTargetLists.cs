using System.Collections.Generic;

namespace Peft.Typed.Architecture.Targeting;

/// <summary>
/// The <c>target_modules</c> lists of the two PEFT DreamBooth seed scripts, shared by the runtime presets and the
/// generated typed selectors.
/// </summary>
public static class SeedTargetLists
{
    /// <summary>examples/stable_diffusion/train_dreambooth.py <c>UNET_TARGET_MODULES</c>.</summary>
    public static readonly IReadOnlyList<string> UnetComprehensive =
        ["to_q", "to_k", "to_v", "proj", "proj_in", "proj_out", "conv", "conv1", "conv2", "conv_shortcut", "to_out.0", "time_emb_proj", "ff.net.2"];

    /// <summary>examples/stable_diffusion/train_dreambooth.py <c>TEXT_ENCODER_TARGET_MODULES</c>.</summary>
    public static readonly IReadOnlyList<string> TextEncoderComprehensive = ["fc1", "fc2", "q_proj", "k_proj", "v_proj", "out_proj"];

    /// <summary>
    /// examples/lora_dreambooth <c>UNET_TARGET_MODULES</c> without its dead entries: that script lists
    /// <c>["to_q", "to_v", "query", "value"]</c>, and <c>query</c>/<c>value</c> (pre-0.14 diffusers attention names) match
    /// nothing in today's UNet, so PEFT silently adapts only the first two.
    /// </summary>
    public static readonly IReadOnlyList<string> UnetMinimal = ["to_q", "to_v"];

    /// <summary>examples/lora_dreambooth <c>TEXT_ENCODER_TARGET_MODULES</c>.</summary>
    public static readonly IReadOnlyList<string> TextEncoderMinimal = ["q_proj", "v_proj"];
}
