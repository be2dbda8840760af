namespace Peft.Typed.Architecture.Targeting;

/// <summary>
/// A <c>target_modules</c> list entry that names no module, with the nearest name that does, or the current name of an
/// attention projection older diffusers releases called differently (<c>query</c> → <c>to_q</c>).
/// </summary>
public sealed class UnmatchedTarget
{
    public UnmatchedTarget(string entry, string? suggestion, string? renamedTo = null)
    {
        Entry = entry;
        RenamedTo = renamedTo;
        Suggestion = renamedTo ?? suggestion;
    }

    /// <summary>The entry as written in the config.</summary>
    public string Entry { get; }

    /// <summary>
    /// The name to write instead: <see cref="RenamedTo"/> for a renamed attention name, else the closest name a user can
    /// write as a target (an adaptable module's leaf name or a dot-suffix not starting at a list index; edit distance).
    /// Null when the model has no adaptable module.
    /// </summary>
    public string? Suggestion { get; }

    /// <summary>
    /// For an old diffusers attention name (<c>query</c>, <c>key</c>, <c>value</c>, <c>proj_attn</c>, see
    /// <see cref="LegacyAttentionNames"/>): the entry under today's name (<c>to_q</c>, ...), set only when that name does
    /// select modules of this model. Null otherwise.
    /// </summary>
    public string? RenamedTo { get; }

    /// <summary>True for an old diffusers attention name whose current name this model has (<see cref="RenamedTo"/>).</summary>
    public bool IsRenamed => RenamedTo is not null;

    /// <summary>
    /// "target_modules entry 'to_z' matches no module; did you mean 'to_q'?", or for a renamed attention name
    /// "target_modules entry 'query' matches no module: diffusers renamed the attention projection 'query' to 'to_q'."
    /// </summary>
    public string Message =>
        RenamedTo is not null ? $"target_modules entry '{Entry}' matches no module: {LegacyAttentionNames.Explain(Entry, RenamedTo)}."
        : Suggestion is null ? $"target_modules entry '{Entry}' matches no module."
        : $"target_modules entry '{Entry}' matches no module; did you mean '{Suggestion}'?";

    public override string ToString() => Message;
}
