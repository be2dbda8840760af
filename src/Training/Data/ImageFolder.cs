using SixLabors.ImageSharp;

namespace Peft.Typed.Training.Data;

/// <summary>The decodable images of a folder (the instance or class images of a DreamBooth run).</summary>
public static class ImageFolder
{
    /// <summary>
    /// Lists the images in <paramref name="folder"/> in name order. Caption files (<see cref="ImageCaptions.CaptionFiles"/>)
    /// are passed over; other files that are not images or cannot be decoded are skipped with a warning naming them; a
    /// folder left with no image is an error.
    /// </summary>
    public static IReadOnlyList<string> Load(string folder, string optionName, Action<string> warn, string? captionExtension = null)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"{optionName}: folder '{folder}' does not exist.");
        var images = new List<string>();
        var files = Directory.EnumerateFiles(folder).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal).ToList();
        var captionFiles = ImageCaptions.CaptionFiles(files, captionExtension);
        foreach (var file in files)
        {
            if (captionFiles.Contains(file)) continue;
            if (IsDecodable(file, out var problem)) images.Add(file);
            else warn($"Skipping '{file}': {problem}.");
        }
        if (images.Count == 0)
            throw new InvalidDataException($"{optionName}: folder '{folder}' contains no readable image.");
        return images;
    }

    /// <summary>The number of decodable images in a folder that may not exist yet (class images before generation).</summary>
    public static int CountDecodable(string folder) =>
        Directory.Exists(folder) ? Directory.EnumerateFiles(folder).Count(f => !Path.GetFileName(f).StartsWith('.') && IsDecodable(f, out _)) : 0;

    private static bool IsDecodable(string file, out string problem)
    {
        try
        {
            var info = Image.Identify(file);
            if (info is null)
            {
                problem = "not a recognised image format";
                return false;
            }
            if (info.Width <= 0 || info.Height <= 0)
            {
                problem = $"invalid size {info.Width}x{info.Height}";
                return false;
            }
            // Identify reads only the header: decode fully so truncated or corrupt pixel data is caught here, not mid-run.
            using var image = Image.Load(file);
            problem = "";
            return true;
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or ImageFormatException or NotSupportedException or IOException)
        {
            problem = e.Message.TrimEnd('.');
            return false;
        }
    }
}
