using Peft.Typed.Architecture.Diagnostics;

namespace Peft.Typed.Architecture.Json;

public sealed class JsonNull : JsonValue
{
    public JsonNull(SourceSpan span)
        : base(span)
    {
    }

    public override JsonValueKind Kind => JsonValueKind.Null;

    public override string Describe() => "null";
}
