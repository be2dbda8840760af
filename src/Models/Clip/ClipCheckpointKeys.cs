namespace Peft.Typed.Models.Clip;

/// <summary>Checkpoint keys of CLIP text encoders that are not parameters.</summary>
internal static class ClipCheckpointKeys
{
    /// <summary>
    /// Older transformers versions saved the <c>position_ids</c> buffer ([1, 77], sometimes as float); it is derived
    /// from the sequence length, so it is skipped. Every other key is a parameter name.
    /// </summary>
    public static string? Map(string key) => key == "text_model.embeddings.position_ids" ? null : key;
}
