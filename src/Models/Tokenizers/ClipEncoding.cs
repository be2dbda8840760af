namespace Peft.Typed.Models.Tokenizers;

/// <summary>
/// A prompt encoded for a CLIP text encoder: <see cref="Ids"/> has exactly the requested length
/// (<c>[bos] + content + [eos]</c>, then padding); <see cref="Length"/> counts the ids before the padding, i.e. the
/// positions an attention mask would keep.
/// </summary>
public sealed record ClipEncoding(int[] Ids, int Length)
{
    /// <summary>1 for the first <see cref="Length"/> positions, 0 for the padding (transformers' <c>attention_mask</c>).</summary>
    public int[] AttentionMask() => [.. Enumerable.Range(0, Ids.Length).Select(i => i < Length ? 1 : 0)];
}
