using System.Text.Json;
using System.Text.Json.Serialization;
using Peft.Typed.Testing;

namespace Peft.Typed.Models.Tests.Tokenizers;

/// <summary>../shared/fixtures/clip-tokenizer/cases.json, read once.</summary>
internal static class ClipTokenizerCases
{
    private static readonly Lazy<CaseFile> File = new(() =>
        JsonSerializer.Deserialize<CaseFile>(System.IO.File.ReadAllText(Fixtures.PathOf("clip-tokenizer", "cases.json")))
        ?? throw new InvalidDataException("cases.json is empty."));

    public static CaseFile All => File.Value;

    public static TokenizerCase Named(string name) => All.Cases.Single(c => c.Name == name);

    public static TheoryData<string> Names(string? category = null) =>
        [.. All.Cases.Where(c => category is null || c.Category == category).Select(c => c.Name)];

    public sealed record CaseFile(
        [property: JsonPropertyName("max_length")] int MaxLength,
        [property: JsonPropertyName("bos_id")] int BosId,
        [property: JsonPropertyName("eos_id")] int EosId,
        [property: JsonPropertyName("pad_id_sd1")] int PadIdSd1,
        [property: JsonPropertyName("cases")] TokenizerCase[] Cases);

    public sealed record TokenizerCase(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("prompt")] string Prompt,
        [property: JsonPropertyName("ids")] int[] Ids,
        [property: JsonPropertyName("length")] int Length,
        [property: JsonPropertyName("content_tokens")] int ContentTokens,
        [property: JsonPropertyName("truncated")] bool Truncated,
        [property: JsonPropertyName("bpe_tokens")] string[] BpeTokens,
        [property: JsonPropertyName("category")] string Category,
        [property: JsonPropertyName("why")] string? Why,
        [property: JsonPropertyName("variants")] Dictionary<string, Variant>? Variants);

    public sealed record Variant(
        [property: JsonPropertyName("ids")] int[] Ids,
        [property: JsonPropertyName("length")] int Length,
        [property: JsonPropertyName("bpe_tokens")] string[] BpeTokens);
}
