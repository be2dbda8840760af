using Peft.Typed.Models.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Imaging;

/// <summary>The tensor-to-pixels conversion, and PNG files that ImageSharp decodes to exactly those pixels.</summary>
public sealed class ImageTensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("png-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 3)]
    [InlineData(64, 17)]
    public void A_saved_png_decodes_to_the_exact_rgb_pixels(int width, int height)
    {
        using var scope = NewDisposeScope();
        var rgb = new byte[width * height * 3];
        new Random(width * 100 + height).NextBytes(rgb);
        // Bytes / 255 round back to the same bytes: the file must hold exactly these pixels.
        var image = tensor(rgb.Select(b => b / 255f).ToArray(), [height, width, 3]).permute(2, 0, 1);
        var path = Path.Combine(_dir, "image.png");

        ImageTensors.SavePng(image, path);

        using var decoded = Image.Load<Rgb24>(path);
        Assert.Equal(width, decoded.Width);
        Assert.Equal(height, decoded.Height);
        var pixels = new byte[rgb.Length];
        decoded.CopyPixelDataTo(pixels);
        Assert.Equal(rgb, pixels);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, File.ReadAllBytes(path)[..8]);
        Assert.Equal(["image.png"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void Tensors_in_unit_range_become_rounded_clamped_bytes_in_row_major_RGB()
    {
        using var scope = NewDisposeScope();
        // [3, 1, 2]: pixel 0 = (0, 0.25, 1.3), pixel 1 = (1, -0.2, 0.5)
        var image = tensor(new float[] { 0f, 1f, 0.25f, -0.2f, 1.3f, 0.5f }, [3, 1, 2]);

        Assert.Equal(new byte[] { 0, 64, 255, 255, 0, 128 }, ImageTensors.ToRgb8(image));
        Assert.Equal(ImageTensors.ToRgb8(image), ImageTensors.ToRgb8(image.unsqueeze(0)));
    }

    [Fact]
    public void A_batch_of_images_is_rejected()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(() => ImageTensors.ToRgb8(zeros(2, 3, 4, 4)));
        Assert.StartsWith("Expected one RGB image [3, H, W] or [1, 3, H, W], got [2, 3, 4, 4].", error.Message);
    }
}
