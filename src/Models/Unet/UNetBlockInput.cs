using static TorchSharp.torch;

namespace Peft.Typed.Models.Unet;

/// <summary>What the UNet passes to a down block or the mid block: the feature map, the time embedding and the text context.</summary>
/// <param name="HiddenStates">[B, C, H, W].</param>
/// <param name="Temb">The time embedding fed to every resnet, [B, time_embed_dim].</param>
/// <param name="EncoderHiddenStates">[B, tokens, cross_attention_dim]; used by cross-attention blocks only.</param>
public sealed record UNetBlockInput(Tensor HiddenStates, Tensor Temb, Tensor? EncoderHiddenStates)
{
    /// <summary>Recompute resnets and attention blocks in backward instead of keeping their activations (diffusers' gradient checkpointing).</summary>
    public bool GradientCheckpointing { get; init; }
}
