using static TorchSharp.torch;

namespace Peft.Typed.Models.Pipelines;

/// <summary>
/// Encoded prompts, one row per prompt (diffusers' <c>prompt_embeds</c>, <c>negative_prompt_embeds</c> and, for SDXL,
/// <c>pooled_prompt_embeds</c>, <c>negative_pooled_prompt_embeds</c>). Owns its tensors.
/// </summary>
public sealed class PromptEmbeddings : IDisposable
{
    /// <param name="promptEmbeds">[B, tokens, cross_attention_dim]: what the UNet attends to.</param>
    /// <param name="negativePromptEmbeds">The unconditional rows for classifier-free guidance, same shape; null without guidance.</param>
    /// <param name="pooledPromptEmbeds">SDXL: text_encoder_2's projected pooled output, [B, projection_dim].</param>
    /// <param name="negativePooledPromptEmbeds">SDXL: the unconditional pooled rows.</param>
    public PromptEmbeddings(Tensor promptEmbeds, Tensor? negativePromptEmbeds, Tensor? pooledPromptEmbeds = null, Tensor? negativePooledPromptEmbeds = null)
    {
        PromptEmbeds = promptEmbeds;
        NegativePromptEmbeds = negativePromptEmbeds;
        PooledPromptEmbeds = pooledPromptEmbeds;
        NegativePooledPromptEmbeds = negativePooledPromptEmbeds;
    }

    public Tensor PromptEmbeds { get; }

    public Tensor? NegativePromptEmbeds { get; }

    public Tensor? PooledPromptEmbeds { get; }

    public Tensor? NegativePooledPromptEmbeds { get; }

    public void Dispose()
    {
        PromptEmbeds.Dispose();
        NegativePromptEmbeds?.Dispose();
        PooledPromptEmbeds?.Dispose();
        NegativePooledPromptEmbeds?.Dispose();
    }
}
