using Peft.Typed.Training.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Tests.Data;

public sealed class ImageDataTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-img-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteStripes(string name)
    {
        // 4x2 image: columns red, green, blue, white.
        using var image = new Image<Rgb24>(4, 2);
        var colors = new[] { new Rgb24(255, 0, 0), new Rgb24(0, 255, 0), new Rgb24(0, 0, 255), new Rgb24(255, 255, 255) };
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 4; x++) image[x, y] = colors[x];
        var path = Path.Combine(_dir, name);
        image.SaveAsPng(path);
        return path;
    }

    [Fact]
    public void Corrupt_and_non_image_files_are_skipped_with_a_warning_naming_them()
    {
        var good = WriteStripes("a.png");
        File.WriteAllBytes(Path.Combine(_dir, "b.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        File.WriteAllText(Path.Combine(_dir, "notes.txt"), "not an image");
        var truncated = File.ReadAllBytes(good)[..40];
        File.WriteAllBytes(Path.Combine(_dir, "c.png"), truncated);

        var warnings = new List<string>();
        var images = ImageFolder.Load(_dir, "--instance_data_dir", warnings.Add);

        Assert.Equal([good], images);
        Assert.Equal(3, warnings.Count);
        Assert.Contains(warnings, w => w.StartsWith($"Skipping '{Path.Combine(_dir, "b.png")}'"));
        Assert.Contains(warnings, w => w.StartsWith($"Skipping '{Path.Combine(_dir, "c.png")}'"));
        Assert.Contains(warnings, w => w.StartsWith($"Skipping '{Path.Combine(_dir, "notes.txt")}'"));
    }

    [Fact]
    public void A_folder_without_images_is_an_error_naming_the_option()
    {
        File.WriteAllText(Path.Combine(_dir, "notes.txt"), "x");
        var ex = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(_dir, "--instance_data_dir", _ => { }));
        Assert.Equal($"--instance_data_dir: folder '{_dir}' contains no readable image.", ex.Message);
        var missing = Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.Load(Path.Combine(_dir, "nope"), "--class_data_dir", _ => { }));
        Assert.Equal($"--class_data_dir: folder '{Path.Combine(_dir, "nope")}' does not exist.", missing.Message);
    }

    [Fact]
    public void Center_crop_takes_the_middle_and_scales_to_minus_one_one()
    {
        var path = WriteStripes("a.png");
        using var scope = NewDisposeScope();
        var pixels = new ImageTransform(Resolution: 2, CenterCrop: true, RandomFlip: false).Apply(path, new Random(0));
        Assert.Equal(new long[] { 3, 2, 2 }, pixels.shape);
        // Middle columns are green then blue.
        Assert.Equal(new[] { -1f, -1f, -1f, -1f }, pixels[0].flatten().data<float>().ToArray());
        Assert.Equal(new[] { 1f, -1f, 1f, -1f }, pixels[1].flatten().data<float>().ToArray());
        Assert.Equal(new[] { -1f, 1f, -1f, 1f }, pixels[2].flatten().data<float>().ToArray());
    }

    [Fact]
    public void Random_flip_mirrors_some_draws_and_not_others()
    {
        var path = WriteStripes("a.png");
        using var scope = NewDisposeScope();
        var transform = new ImageTransform(Resolution: 2, CenterCrop: true, RandomFlip: true);
        var random = new Random(1);
        var greenRows = new HashSet<string>();
        for (int i = 0; i < 40; i++) greenRows.Add(string.Join(",", transform.Apply(path, random)[1, 0].data<float>().ToArray()));
        // Centre crop is (green, blue); flipped it is (blue, green).
        Assert.Equal(new HashSet<string> { "1,-1", "-1,1" }, greenRows);
    }

    [Fact]
    public void Random_crop_covers_every_offset()
    {
        var path = WriteStripes("a.png");
        using var scope = NewDisposeScope();
        var transform = new ImageTransform(Resolution: 2, CenterCrop: false, RandomFlip: false);
        var random = new Random(2);
        var redRows = new HashSet<string>();
        for (int i = 0; i < 60; i++) redRows.Add(string.Join(",", transform.Apply(path, random)[0, 0].data<float>().ToArray()));
        // Offsets 0, 1, 2 give red columns (red, green), (green, blue), (blue, white).
        Assert.Equal(new HashSet<string> { "1,-1", "-1,-1", "-1,1" }, redRows);
    }

    /// <summary>A <see cref="Random"/> whose draws are chosen by the test: every Next(max) gives min(next, max − 1).</summary>
    private sealed class FixedRandom(int next, double nextDouble) : Random
    {
        public override int Next(int maxValue) => Math.Min(next, maxValue - 1);
        public override double NextDouble() => nextDouble;
    }

    [Theory]
    // 120×80 (w×h) at 32: resized to 48×32; crop left 5, top 0; flipped, diffusers measures left in the flipped image: 48 − 32 − 5 = 11.
    [InlineData(120, 80, 0.1, 80, 120, 0, 11)]
    [InlineData(120, 80, 0.9, 80, 120, 0, 5)]
    // 80×120 at 32: resized to 32×48; crop left 0, top 5.
    [InlineData(80, 120, 0.1, 120, 80, 5, 0)]
    public void The_transform_reports_the_original_size_and_the_crop_sdxl_conditions_on(int width, int height, double flipDraw, int originalHeight, int originalWidth, int top, int left)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(10, 20, 30));
        var path = Path.Combine(_dir, "size.png");
        image.SaveAsPng(path);

        var transformed = new ImageTransform(32, CenterCrop: false, RandomFlip: true).Transform(path, new FixedRandom(5, flipDraw));
        using var pixels = transformed.Pixels;
        Assert.Equal((originalHeight, originalWidth), transformed.OriginalSize);
        Assert.Equal((top, left), transformed.CropTopLeft);
        using var timeIds = Models.Pipelines.SdxlConditioning.AddTimeIds(transformed.OriginalSize, transformed.CropTopLeft, (32, 32));
        Assert.Equal([originalHeight, originalWidth, top, left, 32f, 32], timeIds.data<float>().ToArray());
    }
}
