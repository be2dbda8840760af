using Peft.Typed.Architecture.Diagnostics;
using Peft.Typed.Architecture.Json;

namespace Peft.Typed.Architecture.Reading;

/// <summary>The parsed file a config came from: locates an option (or one item of a list option) for an error.</summary>
internal sealed class ConfigSource
{
    public ConfigSource(JsonObject root, string filePath)
    {
        Root = root;
        FilePath = filePath;
    }

    public JsonObject Root { get; }
    public string FilePath { get; }

    /// <summary>The value of <paramref name="key"/>; the top-level '{' when the key is absent (its default was used).</summary>
    public SourceSpan SpanOf(string key) => Root.Find(key)?.Value.Span ?? OpeningBrace;

    /// <summary>Item <paramref name="index"/> of a list option, else the option itself.</summary>
    public SourceSpan SpanOfItem(string key, int index) =>
        Root.Find(key)?.Value is JsonArray array && index < array.Items.Count ? array.Items[index].Span : SpanOf(key);

    private SourceSpan OpeningBrace =>
        new SourceSpan(Root.Span.Offset, 1, Root.Span.Line, Root.Span.Column, Root.Span.Line, Root.Span.Column + 1);
}
