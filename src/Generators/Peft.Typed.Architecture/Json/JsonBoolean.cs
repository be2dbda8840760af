using Peft.Typed.Architecture.Diagnostics;

namespace Peft.Typed.Architecture.Json;

public sealed class JsonBoolean : JsonValue
{
    public JsonBoolean(bool value, SourceSpan span)
        : base(span) => Value = value;

    public bool Value { get; }

    public override JsonValueKind Kind => JsonValueKind.Boolean;

    public override string Describe() => Value ? "true" : "false";
}
