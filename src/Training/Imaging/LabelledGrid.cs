using Peft.Typed.Models.IO;
using Peft.Typed.Models.Imaging;
using SkiaSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Imaging;

/// <summary>
/// Rows of generated images, each under a one-line label, as one PNG (validation: the base model's row above the
/// adapter's, labelled with step and prompt). Small images are enlarged by whole pixels so a label fits above four.
/// </summary>
public static class LabelledGrid
{
    private const int LabelHeight = 20, MinimumCell = 128, Gap = 2;
    private const float FontSize = 13;

    /// <param name="rows">Each row's label and images [N, 3, H, W] in [0, 1]; every image has the same size.</param>
    public static void Save(string path, IReadOnlyList<(string Label, Tensor Images)> rows)
    {
        if (rows.Count == 0) throw new ArgumentException("A grid needs at least one row.", nameof(rows));
        var shape = rows[0].Images.shape;
        if (shape.Length != 4) throw new ArgumentException($"Grid rows must be images [N, 3, H, W]; the first row is [{string.Join(", ", shape)}].", nameof(rows));
        int height = (int)shape[2], width = (int)shape[3];
        if (rows.Any(r => r.Images.shape is not [> 0, 3, var h, var w] || h != height || w != width))
            throw new ArgumentException($"Grid rows must be images [N, 3, {height}, {width}], as the first row's.", nameof(rows));
        int scale = Math.Max(1, (MinimumCell + Math.Max(height, width) - 1) / Math.Max(height, width));
        int cellW = width * scale, cellH = height * scale;
        int columns = rows.Max(r => (int)r.Images.shape[0]);
        int canvasW = columns * cellW + (columns - 1) * Gap, canvasH = rows.Count * (LabelHeight + cellH);

        using var bitmap = new SKBitmap(canvasW, canvasH, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(bitmap))
        using (var font = new SKFont(SKTypeface.Default, FontSize))
        using (var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true })
        {
            canvas.Clear(SKColors.White);
            for (int r = 0; r < rows.Count; r++)
            {
                int top = r * (LabelHeight + cellH);
                canvas.DrawText(Fit(rows[r].Label, font, canvasW - 8), 4, top + LabelHeight - 6, SKTextAlign.Left, font, ink);
                for (int c = 0; c < rows[r].Images.shape[0]; c++)
                {
                    using var image = Image(rows[r].Images[c], width, height);
                    canvas.DrawImage(image, SKRect.Create(c * (cellW + Gap), top + LabelHeight, cellW, cellH), new SKSamplingOptions(SKFilterMode.Nearest));
                }
            }
        }
        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.WriteAllBytes(path, png.AsSpan());
    }

    private static SKImage Image(Tensor chw, int width, int height)
    {
        var rgb = ImageTensors.ToRgb8(chw);
        var rgba = new byte[width * height * 4];
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgba[j] = rgb[i];
            rgba[j + 1] = rgb[i + 1];
            rgba[j + 2] = rgb[i + 2];
            rgba[j + 3] = 255;
        }
        return SKImage.FromPixelCopy(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque), rgba);
    }

    /// <summary>The label, cut with an ellipsis where it is wider than <paramref name="maxWidth"/>.</summary>
    private static string Fit(string label, SKFont font, float maxWidth)
    {
        if (font.MeasureText(label) <= maxWidth) return label;
        int length = label.Length;
        while (length > 0 && font.MeasureText(label[..length] + "…") > maxWidth) length--;
        return label[..length] + "…";
    }
}
