using System.Text.Json;

namespace Peft.Typed.Models.Loading;

/// <summary>The JSON files of model folders (model_index.json, scheduler_config.json, vocab.json).</summary>
internal static class JsonFile
{
    /// <summary>Parses <paramref name="path"/>; malformed JSON is an <see cref="InvalidDataException"/> naming the file.</summary>
    public static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
    }
}
