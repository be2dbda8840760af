using Peft.Typed.Models.IO;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Peft.Typed.Training;

/// <summary>A loss-per-step plot as a PNG: raw losses in light grey, a moving average in blue.</summary>
public static class LossCurve
{
    private const int Width = 640, Height = 360, Margin = 24;

    public static void Write(string path, IReadOnlyList<double> losses)
    {
        using var image = new Image<Rgb24>(Width, Height, new Rgb24(255, 255, 255));
        var axis = new Rgb24(0, 0, 0);
        Line(image, Margin, Height - Margin, Width - Margin, Height - Margin, axis);
        Line(image, Margin, Margin, Margin, Height - Margin, axis);
        var finite = losses.Where(double.IsFinite).ToList();
        if (finite.Count > 0)
        {
            double low = finite.Min(), high = finite.Max();
            if (high - low < 1e-12) high = low + 1;
            int X(int i) => Margin + (int)Math.Round((double)i / Math.Max(1, losses.Count - 1) * (Width - 2 * Margin));
            int Y(double v) => Height - Margin - (int)Math.Round((v - low) / (high - low) * (Height - 2 * Margin));
            Polyline(image, losses, X, Y, new Rgb24(190, 190, 190));
            Polyline(image, MovingAverage(losses, Math.Max(1, losses.Count / 20)), X, Y, new Rgb24(31, 119, 180));
        }
        AtomicFile.Write(path, stream => image.SaveAsPng(stream));
    }

    private static List<double> MovingAverage(IReadOnlyList<double> values, int window)
    {
        var result = new List<double>(values.Count);
        for (int i = 0; i < values.Count; i++)
        {
            var slice = values.Skip(Math.Max(0, i - window + 1)).Take(Math.Min(window, i + 1)).Where(double.IsFinite).ToList();
            result.Add(slice.Count > 0 ? slice.Average() : double.NaN);
        }
        return result;
    }

    private static void Polyline(Image<Rgb24> image, IReadOnlyList<double> values, Func<int, int> x, Func<double, int> y, Rgb24 color)
    {
        for (int i = 1; i < values.Count; i++)
        {
            if (double.IsFinite(values[i - 1]) && double.IsFinite(values[i])) Line(image, x(i - 1), y(values[i - 1]), x(i), y(values[i]), color);
        }
        if (values.Count == 1 && double.IsFinite(values[0])) image[x(0), y(values[0])] = color;
    }

    private static void Line(Image<Rgb24> image, int x0, int y0, int x1, int y1, Rgb24 color)
    {
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, error = dx + dy;
        while (true)
        {
            if (x0 >= 0 && x0 < image.Width && y0 >= 0 && y0 < image.Height) image[x0, y0] = color;
            if (x0 == x1 && y0 == y1) return;
            int e2 = 2 * error;
            if (e2 >= dy) { error += dy; x0 += sx; }
            if (e2 <= dx) { error += dx; y0 += sy; }
        }
    }
}
