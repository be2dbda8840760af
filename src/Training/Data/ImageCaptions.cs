using System.Text;
using System.Text.Json;

namespace Peft.Typed.Training.Data;

/// <summary>
/// Per-image captions of an image folder, which replace the run's prompt for their image. In order of precedence:
/// <list type="number">
/// <item>a caption file beside the image, <c>name</c> + the caption extension (kohya's convention): with
/// <c>--caption_extension</c> only that extension, otherwise <c>.caption</c>, then <c>.txt</c>. The file is UTF-8
/// (a byte-order mark is allowed) and its first line, trimmed, is the caption, as kohya reads it;</item>
/// <item>the caption column (<c>text</c> unless <c>--caption_column</c> names another) of the image's line in the
/// folder's <c>metadata.jsonl</c> (the image-folder convention of diffusers and datasets: one JSON object per line with
/// <c>file_name</c>, relative to the folder, and the caption);</item>
/// <item>none: the image keeps the prompt.</item>
/// </list>
/// An empty caption, a file that is not UTF-8 and a malformed or duplicated metadata line are errors naming the file.
/// </summary>
public static class ImageCaptions
{
    /// <summary>The folder-level caption file.</summary>
    public const string MetadataFileName = "metadata.jsonl";

    /// <summary>The <c>metadata.jsonl</c> field read as the caption when none is named.</summary>
    public const string DefaultCaptionColumn = "text";

    /// <summary>The caption extensions looked for when none is given, in order.</summary>
    public static IReadOnlyList<string> DefaultExtensions { get; } = [".caption", ".txt"];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The caption extensions in effect: <paramref name="captionExtension"/> alone, or <see cref="DefaultExtensions"/>.</summary>
    public static IReadOnlyList<string> Extensions(string? captionExtension) => captionExtension is null ? DefaultExtensions : [captionExtension];

    /// <summary>
    /// The files among <paramref name="folderFiles"/> that hold captions rather than images: <see cref="MetadataFileName"/>,
    /// and each file with a caption extension whose name without extension is also another file's (<c>a.txt</c>
    /// beside <c>a.png</c>; a lone <c>notes.txt</c> is not a caption).
    /// </summary>
    public static IReadOnlySet<string> CaptionFiles(IReadOnlyList<string> folderFiles, string? captionExtension)
    {
        var filesPerStem = folderFiles.CountBy(f => Path.Combine(Path.GetDirectoryName(f) ?? "", Path.GetFileNameWithoutExtension(f)))
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var extensions = Extensions(captionExtension);
        return folderFiles.Where(f =>
                Path.GetFileName(f) == MetadataFileName ||
                (extensions.Any(e => f.EndsWith(e, StringComparison.Ordinal)) &&
                 filesPerStem[Path.Combine(Path.GetDirectoryName(f) ?? "", Path.GetFileNameWithoutExtension(f))] > 1))
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// The caption of each of <paramref name="images"/> (files of <paramref name="folder"/>), or null where it has none;
    /// <paramref name="captionColumn"/> is the <c>metadata.jsonl</c> field holding captions.
    /// </summary>
    public static IReadOnlyList<ImageCaption?> Load(string folder, IReadOnlyList<string> images, string? captionExtension, string captionColumn = DefaultCaptionColumn)
    {
        var metadata = ReadMetadata(folder, captionColumn);
        var captions = new ImageCaption?[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            var stem = Path.Combine(Path.GetDirectoryName(images[i])!, Path.GetFileNameWithoutExtension(images[i]));
            var file = Extensions(captionExtension).Select(e => stem + e).FirstOrDefault(File.Exists);
            if (file is not null) captions[i] = new ImageCaption(ReadCaptionFile(file), file);
            else if (metadata.TryGetValue(Path.GetRelativePath(folder, images[i]).Replace('\\', '/'), out var entry)) captions[i] = entry;
        }
        return captions;
    }

    private static string ReadCaptionFile(string file)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(File.ReadAllBytes(file));
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidDataException($"Caption file '{file}' is not UTF-8.");
        }
        var caption = text.TrimStart('\uFEFF').Split('\n')[0].Trim();
        if (caption.Length == 0) throw new InvalidDataException($"Caption file '{file}' is empty (its first line is the caption).");
        return caption;
    }

    private static Dictionary<string, ImageCaption> ReadMetadata(string folder, string column)
    {
        var path = Path.Combine(folder, MetadataFileName);
        var entries = new Dictionary<string, ImageCaption>(StringComparer.Ordinal);
        if (!File.Exists(path)) return entries;
        string[] lines;
        try
        {
            lines = StrictUtf8.GetString(File.ReadAllBytes(path)).TrimStart('\uFEFF').Split('\n');
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidDataException($"'{path}' is not UTF-8.");
        }
        for (int n = 0; n < lines.Length; n++)
        {
            var line = lines[n].Trim();
            if (line.Length == 0) continue;
            var where = $"{path} line {n + 1}";
            string? fileName, text;
            try
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"'{where}': expected a JSON object with \"file_name\" and \"{column}\".");
                fileName = root.TryGetProperty("file_name", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
                text = root.TryGetProperty(column, out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"'{where}': not JSON ({e.Message.TrimEnd('.')}).");
            }
            if (string.IsNullOrWhiteSpace(fileName) || text is null)
                throw new InvalidDataException($"'{where}': needs a string \"file_name\" and a string \"{column}\".");
            if (text.Trim().Length == 0) throw new InvalidDataException($"'{where}': the {column} of '{fileName}' is empty.");
            if (!entries.TryAdd(fileName.Replace('\\', '/'), new ImageCaption(text.Trim(), where)))
                throw new InvalidDataException($"'{where}': '{fileName}' already has a caption on an earlier line.");
        }
        return entries;
    }
}
