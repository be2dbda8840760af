using static TorchSharp.torch;

namespace Peft.Typed.Models.Unet;

/// <summary>The arguments of <c>UNet2DConditionModel(sample, timestep, encoder_hidden_states, added_cond_kwargs=...)</c>.</summary>
/// <param name="Sample">Noisy latents, [B, in_channels, H, W]; any H and W.</param>
/// <param name="Timestep">A [B] tensor, or a scalar (0-d or [1]) broadcast to the batch; integer or float.</param>
/// <param name="EncoderHiddenStates">Text-encoder hidden states, [B, tokens, cross_attention_dim].</param>
public sealed record UNet2DConditionInput(Tensor Sample, Tensor Timestep, Tensor EncoderHiddenStates)
{
    /// <summary>SDXL <c>added_cond_kwargs["text_embeds"]</c>: the pooled text embedding, [B, 1280].</summary>
    public Tensor? TextEmbeds { get; init; }

    /// <summary>SDXL <c>added_cond_kwargs["time_ids"]</c>: original size, crop offset and target size, [B, 6].</summary>
    public Tensor? TimeIds { get; init; }
}
