using Peft.Typed.Architecture.Diagnostics;

namespace Peft.Typed.Architecture.Json;

public sealed class JsonString : JsonValue
{
    public JsonString(string value, SourceSpan span)
        : base(span) => Value = value;

    /// <summary>The unescaped text.</summary>
    public string Value { get; }

    public override JsonValueKind Kind => JsonValueKind.String;

    public override string Describe() => $"a string \"{Value}\"";
}
