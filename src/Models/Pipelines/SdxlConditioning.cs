using Peft.Typed.Models.Clip;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Pipelines;

/// <summary>
/// SDXL's conditioning, one code path for sampling (<see cref="StableDiffusionXLPipeline"/>) and training
/// (<c>DiffusionTrainingStep</c>): the prompt through both text encoders (their hidden states <paramref name="fromEnd"/>
/// layers from the end, without final_layer_norm, concatenated; text_encoder_2's projected pooled output) and the
/// size micro-conditioning <c>add_time_ids</c>.
/// </summary>
public static class SdxlConditioning
{
    /// <summary>
    /// diffusers' <c>_get_add_time_ids</c>: <c>original_size + crops_coords_top_left + target_size</c> as a [1, 6] tensor
    /// (height before width, top before left).
    /// </summary>
    public static Tensor AddTimeIds((int Height, int Width) originalSize, (int Top, int Left) cropTopLeft, (int Height, int Width) targetSize,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        float[] values = [originalSize.Height, originalSize.Width, cropTopLeft.Top, cropTopLeft.Left, targetSize.Height, targetSize.Width];
        return tensor(values, [1, 6], dtype: dtype, device: device);
    }

    /// <summary>
    /// diffusers' SDXL <c>encode_prompt</c> for token ids already made by each encoder's tokenizer ([B, 77] each):
    /// the hidden states <paramref name="fromEnd"/> layers from the end (2: the penultimate layer, SDXL's choice; clip
    /// skip adds to it) of both encoders concatenated on the last dimension, and text_encoder_2's <c>text_embeds</c>.
    /// Gradients flow as the caller's mode allows.
    /// </summary>
    public static (Tensor PromptEmbeds, Tensor PooledPromptEmbeds) EncodePrompt(CLIPTextModel textEncoder, CLIPTextModelWithProjection textEncoder2,
        Tensor inputIds, Tensor inputIds2, int fromEnd = 2)
    {
        ArgumentNullException.ThrowIfNull(textEncoder);
        ArgumentNullException.ThrowIfNull(textEncoder2);
        using var scope = NewDisposeScope();
        var first = textEncoder.call(inputIds);
        var second = textEncoder2.call(inputIds2);
        var embeds = cat([first.HiddenStates[^fromEnd], second.HiddenStates[^fromEnd].to(first.HiddenStates[^fromEnd].device)], -1);
        return (embeds.MoveToOuterDisposeScope(), second.TextEmbeds.to(embeds.device).MoveToOuterDisposeScope());
    }
}
