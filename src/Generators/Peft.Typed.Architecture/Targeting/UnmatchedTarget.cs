namespace Peft.Typed.Architecture.Targeting;

/// <summary>A <c>target_modules</c> list entry that names no module, with the nearest name that does.</summary>
public sealed class UnmatchedTarget
{
    public UnmatchedTarget(string entry, string? suggestion)
    {
        Entry = entry;
        Suggestion = suggestion;
    }

    /// <summary>The entry as written in the config.</summary>
    public string Entry { get; }

    /// <summary>The closest adaptable name or name suffix (edit distance), or null when the model has none.</summary>
    public string? Suggestion { get; }

    /// <summary>"target_modules entry 'to_z' matches no module; did you mean 'to_q'?"</summary>
    public string Message => Suggestion is null
        ? $"target_modules entry '{Entry}' matches no module."
        : $"target_modules entry '{Entry}' matches no module; did you mean '{Suggestion}'?";

    public override string ToString() => Message;
}
