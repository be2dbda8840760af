using static TorchSharp.torch;

namespace Peft.Typed.Models.Clip;

/// <summary>transformers <c>CLIPTextModelOutput</c> of <c>CLIPTextModelWithProjection</c>.</summary>
/// <param name="TextEmbeds"><c>text_projection(pooled_output)</c>, [B, projection_dim] (SDXL's pooled prompt embedding).</param>
/// <param name="LastHiddenState"><c>final_layer_norm</c> of the last layer's output, [B, tokens, hidden].</param>
/// <param name="HiddenStates">The embeddings, then each layer's output (without final_layer_norm).</param>
public sealed record CLIPTextModelWithProjectionOutput(Tensor TextEmbeds, Tensor LastHiddenState, IReadOnlyList<Tensor> HiddenStates);
