using System.Collections.Generic;
using Peft.Typed.Architecture.Diagnostics;

namespace Peft.Typed.Architecture.Json;

public sealed class JsonArray : JsonValue
{
    public JsonArray(IReadOnlyList<JsonValue> items, SourceSpan span)
        : base(span) => Items = items;

    public IReadOnlyList<JsonValue> Items { get; }

    public override JsonValueKind Kind => JsonValueKind.Array;

    public override string Describe() => "an array";
}
