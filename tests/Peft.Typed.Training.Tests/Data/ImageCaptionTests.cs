using System.Text;
using Peft.Typed.Training.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Peft.Typed.Training.Tests.Data;

public sealed class ImageCaptionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-captions-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Image(string name)
    {
        using var image = new Image<Rgb24>(2, 2);
        var path = Path.Combine(_dir, name);
        image.SaveAsPng(path);
        return path;
    }

    private string Text(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>a: .txt; b: .caption and .txt; c: metadata.jsonl; d: nothing; e: .txt and metadata.jsonl; sub/f: metadata.jsonl.</summary>
    private List<string> MixedFolder()
    {
        var images = new[] { "a.png", "b.png", "c.png", "d.png", "e.png" }.Select(Image).ToList();
        Text("a.txt", "a photo of sks toy on a beach \r\nsecond line is ignored\n");
        Text("b.caption", "a photo of sks toy from b.caption");
        Text("b.txt", "a photo of sks toy from b.txt");
        Text("e.txt", "a photo of sks toy from e.txt");
        Text("metadata.jsonl", """
            {"file_name": "c.png", "text": "a photo of sks toy from the metadata"}

            {"file_name": "e.png", "text": "not used: e.txt comes first"}
            {"file_name": "gone.png", "text": "an entry without its image is ignored"}
            """);
        return images;
    }

    [Fact]
    public void A_mixed_folder_gives_each_image_its_caption_file_then_its_metadata_line_then_none()
    {
        var expected = MixedFolder();
        var warnings = new List<string>();
        var images = ImageFolder.Load(_dir, "--instance_data_dir", warnings.Add);
        Assert.Equal(expected, images);
        Assert.Empty(warnings);

        var captions = ImageCaptions.Load(_dir, images, captionExtension: null);
        var metadata = Path.Combine(_dir, "metadata.jsonl");
        Assert.Equal(
        [
            new ImageCaption("a photo of sks toy on a beach", Path.Combine(_dir, "a.txt")),
            new ImageCaption("a photo of sks toy from b.caption", Path.Combine(_dir, "b.caption")),
            new ImageCaption("a photo of sks toy from the metadata", $"{metadata} line 1"),
            null,
            new ImageCaption("a photo of sks toy from e.txt", Path.Combine(_dir, "e.txt")),
        ], captions);
    }

    [Fact]
    public void A_caption_extension_is_the_only_one_looked_for()
    {
        MixedFolder();
        var warnings = new List<string>();
        var images = ImageFolder.Load(_dir, "--instance_data_dir", warnings.Add, captionExtension: ".txt");
        // b.caption is no caption file now, and not an image either.
        Assert.StartsWith($"Skipping '{Path.Combine(_dir, "b.caption")}'", Assert.Single(warnings));
        var captions = ImageCaptions.Load(_dir, images, ".txt");
        Assert.Equal(["a photo of sks toy on a beach", "a photo of sks toy from b.txt", "a photo of sks toy from the metadata", null, "a photo of sks toy from e.txt"],
            captions.Select(c => c?.Text));
    }

    [Fact]
    public void A_caption_column_names_the_metadata_field_read()
    {
        var image = Path.Combine(_dir, "a.png");
        File.WriteAllBytes(image, []);
        File.WriteAllText(Path.Combine(_dir, "metadata.jsonl"), """{"file_name": "a.png", "text": "not this", "prompt": "a photo of sks toy"}""");
        Assert.Equal("a photo of sks toy", Assert.Single(ImageCaptions.Load(_dir, [image], null, captionColumn: "prompt"))!.Text);
        File.WriteAllText(Path.Combine(_dir, "metadata.jsonl"), """{"file_name": "a.png", "text": "a photo"}""");
        var error = Assert.Throws<InvalidDataException>(() => ImageCaptions.Load(_dir, [image], null, captionColumn: "prompt"));
        Assert.EndsWith("line 1': needs a string \"file_name\" and a string \"prompt\".", error.Message);
    }

    [Fact]
    public void A_byte_order_mark_is_not_part_of_the_caption()
    {
        var image = Image("a.png");
        File.WriteAllBytes(Path.Combine(_dir, "a.txt"), [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes("photo de sks jouet à la plage")]);
        Assert.Equal("photo de sks jouet à la plage", ImageCaptions.Load(_dir, [image], null)[0]!.Text);
    }

    [Fact]
    public void An_empty_caption_file_is_an_error_naming_it()
    {
        var image = Image("a.png");
        var file = Text("a.txt", "  \nsecond line");
        var ex = Assert.Throws<InvalidDataException>(() => ImageCaptions.Load(_dir, [image], null));
        Assert.Equal($"Caption file '{file}' is empty (its first line is the caption).", ex.Message);
    }

    [Fact]
    public void A_caption_file_that_is_not_utf8_is_an_error_naming_it()
    {
        var image = Image("a.png");
        var file = Path.Combine(_dir, "a.caption");
        File.WriteAllBytes(file, [0x74, 0x6F, 0x79, 0xE9]); // "toyé" in Latin-1
        var ex = Assert.Throws<InvalidDataException>(() => ImageCaptions.Load(_dir, [image], null));
        Assert.Equal($"Caption file '{file}' is not UTF-8.", ex.Message);
    }

    [Theory]
    [InlineData("{\"file_name\": \"a.png\"}", "line 1': needs a string \"file_name\" and a string \"text\".")]
    [InlineData("[1, 2]", "line 1': expected a JSON object with \"file_name\" and \"text\".")]
    [InlineData("{\"file_name\": \"a.png\", \"text\": \"one\"}\n{\"file_name\": \"a.png\", \"text\": \"two\"}", "line 2': 'a.png' already has a caption on an earlier line.")]
    [InlineData("{\"file_name\": \"a.png\", \"text\": \" \"}", "line 1': the text of 'a.png' is empty.")]
    public void A_malformed_metadata_line_is_an_error_naming_the_line(string content, string expectedEnd)
    {
        var image = Image("a.png");
        var metadata = Text("metadata.jsonl", content);
        var ex = Assert.Throws<InvalidDataException>(() => ImageCaptions.Load(_dir, [image], null));
        Assert.Equal($"'{metadata} {expectedEnd}", ex.Message);
    }

    [Fact]
    public void Metadata_that_is_not_json_names_the_line()
    {
        var image = Image("a.png");
        var metadata = Text("metadata.jsonl", "{\"file_name\": \"a.png\", \"text\": \"ok\"}\n{oops");
        var ex = Assert.Throws<InvalidDataException>(() => ImageCaptions.Load(_dir, [image], null));
        Assert.StartsWith($"'{metadata} line 2': not JSON (", ex.Message);
    }
}
