using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Data;

/// <summary>
/// diffusers' DreamBooth image transform: resize the shorter side to <see cref="Resolution"/> (bilinear), crop a
/// square (centre or random), optionally flip horizontally, scale to [-1, 1]; gives a [3, H, W] float tensor.
/// </summary>
public sealed record ImageTransform(int Resolution, bool CenterCrop, bool RandomFlip)
{
    public Tensor Apply(string file, Random random) => Transform(file, random).Pixels;

    /// <summary>
    /// The pixels with the size and crop SDXL conditions on. diffusers' SDXL script flips before it crops, this
    /// transform after; the image is the same, and the crop's left edge is reported in the flipped image as diffusers
    /// measures it (<c>width − resolution − left</c>).
    /// </summary>
    public TransformedImage Transform(string file, Random random)
    {
        using var image = Image.Load<Rgb24>(file);
        image.Mutate(x => x.AutoOrient());
        var originalSize = (image.Height, image.Width);
        double scale = (double)Resolution / Math.Min(image.Width, image.Height);
        int width = Math.Max(Resolution, (int)Math.Round(image.Width * scale));
        int height = Math.Max(Resolution, (int)Math.Round(image.Height * scale));
        image.Mutate(x => x.Resize(width, height, KnownResamplers.Triangle));

        int left = CenterCrop ? (width - Resolution) / 2 : random.Next(width - Resolution + 1);
        int top = CenterCrop ? (height - Resolution) / 2 : random.Next(height - Resolution + 1);
        bool flip = RandomFlip && random.NextDouble() < 0.5;
        image.Mutate(x =>
        {
            x.Crop(new Rectangle(left, top, Resolution, Resolution));
            if (flip) x.Flip(FlipMode.Horizontal);
        });

        return new TransformedImage(ToPixels(image), originalSize, (top, flip ? width - Resolution - left : left));
    }

    /// <summary>An RGB image as a [3, H, W] float tensor in [-1, 1].</summary>
    public static Tensor ToPixels(Image<Rgb24> image)
    {
        int width = image.Width, height = image.Height, plane = width * height;
        var pixels = new float[3 * plane];
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    int i = y * width + x;
                    pixels[i] = row[x].R / 127.5f - 1f;
                    pixels[plane + i] = row[x].G / 127.5f - 1f;
                    pixels[2 * plane + i] = row[x].B / 127.5f - 1f;
                }
            }
        });
        return tensor(pixels, [3, height, width]);
    }
}
