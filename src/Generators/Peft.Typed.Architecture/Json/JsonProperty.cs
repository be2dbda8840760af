using Peft.Typed.Architecture.Diagnostics;

namespace Peft.Typed.Architecture.Json;

/// <summary>One <c>"name": value</c> member of a <see cref="JsonObject"/>.</summary>
public sealed class JsonProperty
{
    public JsonProperty(string name, SourceSpan nameSpan, JsonValue value)
    {
        Name = name;
        NameSpan = nameSpan;
        Value = value;
    }

    public string Name { get; }

    /// <summary>The quoted name, quotes included.</summary>
    public SourceSpan NameSpan { get; }

    public JsonValue Value { get; }
}
