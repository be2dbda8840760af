using Peft.Typed.Architecture.Diagnostics;

namespace Peft.Typed.Architecture.Json;

/// <summary>A parsed JSON value that remembers where it was written, so config errors can point at it.</summary>
public abstract class JsonValue
{
    protected JsonValue(SourceSpan span) => Span = span;

    /// <summary>From the first character of the value to just after its last (closing brace, quote, digit).</summary>
    public SourceSpan Span { get; }

    public abstract JsonValueKind Kind { get; }

    /// <summary>How the value reads in an error message: <c>a string "silu"</c>, <c>the number 2.5</c>, <c>an array</c>.</summary>
    public abstract string Describe();
}
