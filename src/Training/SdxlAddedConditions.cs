using static TorchSharp.torch;

namespace Peft.Typed.Training;

/// <summary>
/// SDXL's <c>added_cond_kwargs</c> for a batch: text_encoder_2's pooled <c>text_embeds</c> [B, projection_dim] and the
/// <c>time_ids</c> [B, 6] (original size, crop top-left, target size; <see cref="Models.Pipelines.SdxlConditioning.AddTimeIds"/>).
/// </summary>
public sealed record SdxlAddedConditions(Tensor TextEmbeds, Tensor TimeIds);
