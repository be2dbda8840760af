using static TorchSharp.torch;

namespace Peft.Typed.Models.Unet;

/// <summary>What the UNet passes to an up block.</summary>
/// <param name="HiddenStates">[B, C, H, W].</param>
/// <param name="Temb">The time embedding, [B, time_embed_dim].</param>
/// <param name="ResHiddenStates">This block's skip tensors, one per resnet, consumed from the end.</param>
/// <param name="EncoderHiddenStates">The text context for cross-attention blocks.</param>
/// <param name="UpsampleSize">The [height, width] the upsampler must produce, or null to double the size.</param>
public sealed record UpBlockInput(Tensor HiddenStates, Tensor Temb, IReadOnlyList<Tensor> ResHiddenStates, Tensor? EncoderHiddenStates, long[]? UpsampleSize)
{
    /// <summary>Recompute resnets and attention blocks in backward instead of keeping their activations (diffusers' gradient checkpointing).</summary>
    public bool GradientCheckpointing { get; init; }
}
