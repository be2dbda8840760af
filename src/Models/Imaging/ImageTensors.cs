using Peft.Typed.Models.IO;
using Peft.Typed.Models.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Imaging;

/// <summary>Conversions between image tensors in [0, 1] (what the pipelines return) and 8-bit RGB pixels.</summary>
public static class ImageTensors
{
    private static readonly PngEncoder RgbPng = new() { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit8 };

    /// <summary>
    /// A [3, H, W] (or [1, 3, H, W]) image in [0, 1] to row-major RGB bytes, as diffusers' <c>numpy_to_pil</c>:
    /// <c>round(clamp(x, 0, 1)·255)</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not one 3-channel image.</exception>
    public static byte[] ToRgb8(Tensor image)
    {
        using var scope = NewDisposeScope();
        var chw = Single(image);
        var hwc = chw.to_type(ScalarType.Float32).cpu().Clamp(0, 1).Mul(255).round().to_type(ScalarType.Byte).permute(1, 2, 0).contiguous();
        return hwc.data<byte>().ToArray();
    }

    /// <summary>Saves a [3, H, W] (or [1, 3, H, W]) image in [0, 1] as an 8-bit RGB PNG file, atomically (<see cref="AtomicFile"/>).</summary>
    public static void SavePng(Tensor image, string path)
    {
        using var pixels = ToImage(image);
        AtomicFile.Write(path, stream => pixels.SaveAsPng(stream, RgbPng));
    }

    /// <summary>A [3, H, W] (or [1, 3, H, W]) image in [0, 1] as 8-bit RGB pixels (<see cref="ToRgb8"/>).</summary>
    public static Image<Rgb24> ToImage(Tensor image)
    {
        using var scope = NewDisposeScope();
        var chw = Single(image);
        return Image.LoadPixelData<Rgb24>(ToRgb8(chw), (int)chw.shape[2], (int)chw.shape[1]);
    }

    private static Tensor Single(Tensor image)
    {
        var shape = image.shape;
        if (shape.Length == 3 && shape[0] == 3) return image;
        if (shape.Length == 4 && shape[0] == 1 && shape[1] == 3) return image[0];
        throw new ArgumentException($"Expected one RGB image [3, H, W] or [1, 3, H, W], got [{string.Join(", ", shape)}].", nameof(image));
    }
}
