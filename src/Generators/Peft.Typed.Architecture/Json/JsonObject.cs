using System.Collections.Generic;
using Peft.Typed.Architecture.Diagnostics;

namespace Peft.Typed.Architecture.Json;

/// <summary>A JSON object; members keep file order. Duplicate names are rejected by <see cref="JsonReader"/>.</summary>
public sealed class JsonObject : JsonValue
{
    private readonly Dictionary<string, JsonProperty> _byName;

    public JsonObject(IReadOnlyList<JsonProperty> properties, SourceSpan span)
        : base(span)
    {
        Properties = properties;
        _byName = new Dictionary<string, JsonProperty>(properties.Count);
        foreach (var property in properties) _byName[property.Name] = property;
    }

    public IReadOnlyList<JsonProperty> Properties { get; }

    public override JsonValueKind Kind => JsonValueKind.Object;

    /// <summary>The member with that name, or null.</summary>
    public JsonProperty? Find(string name) => _byName.TryGetValue(name, out var property) ? property : null;

    public override string Describe() => "an object";
}
