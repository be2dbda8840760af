using Peft.Typed.Models.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Imaging;

/// <summary>The dependency-free PNG writer, checked by decoding with ImageSharp, and the tensor-to-pixels conversion.</summary>
public class PngEncoderTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 3)]
    [InlineData(64, 17)]
    public void ImageSharp_decodes_the_exact_pixels(int width, int height)
    {
        var rgb = new byte[width * height * 3];
        new Random(width * 100 + height).NextBytes(rgb);

        using var image = Image.Load<Rgb24>(PngEncoder.Encode(width, height, rgb));

        Assert.Equal(width, image.Width);
        Assert.Equal(height, image.Height);
        var decoded = new byte[rgb.Length];
        image.CopyPixelDataTo(decoded);
        Assert.Equal(rgb, decoded);
    }

    [Fact]
    public void The_file_has_the_png_signature_header_and_the_standard_IEND_chunk()
    {
        var png = PngEncoder.Encode(2, 1, [255, 0, 0, 0, 0, 255]);

        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        // IHDR: length 13, "IHDR", width 2, height 1, depth 8, colour type 2 (RGB), compression/filter/interlace 0.
        Assert.Equal(new byte[] { 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 2, 0, 0, 0, 1, 8, 2, 0, 0, 0 }, png[8..29]);
        // An empty IEND chunk always ends with the CRC AE 42 60 82 (PNG specification).
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82 }, png[^12..]);
    }

    [Fact]
    public void Wrong_sizes_are_rejected()
    {
        var count = Assert.Throws<ArgumentException>(() => PngEncoder.Encode(2, 2, new byte[11]));
        Assert.StartsWith("A 2x2 RGB image has 12 bytes, got 11.", count.Message);
        var size = Assert.Throws<ArgumentException>(() => PngEncoder.Encode(0, 2, []));
        Assert.StartsWith("PNG size must be positive, got 0x2.", size.Message);
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
