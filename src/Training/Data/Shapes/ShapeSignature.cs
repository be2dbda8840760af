using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Peft.Typed.Training.Data.Shapes;

/// <summary>
/// What an image's foreground (the pixels off <see cref="ShapeScene.Background"/>) looks like, reduced to numbers two
/// images can be compared by: its colour histogram (4 levels per channel), its area and its spread (Hu's first moment
/// invariant η20 + η02, which tells a compact shape from a spiky one whatever its size and position).
/// </summary>
public sealed record ShapeSignature(IReadOnlyList<double> Histogram, double Area, double Spread)
{
    private const int Levels = 4;

    /// <summary>The signature of <paramref name="image"/>; null when it has no foreground.</summary>
    public static ShapeSignature? Of(Image<Rgb24> image)
    {
        var histogram = new double[Levels * Levels * Levels];
        var points = new List<(double X, double Y)>();
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                var p = image[x, y];
                if (!ShapeMeasurement.IsForeground(p)) continue;
                points.Add((x + 0.5, y + 0.5));
                histogram[(Level(p.R) * Levels + Level(p.G)) * Levels + Level(p.B)]++;
            }
        }
        if (points.Count == 0) return null;
        double n = points.Count, cx = points.Average(p => p.X), cy = points.Average(p => p.Y);
        double mu20 = points.Sum(p => (p.X - cx) * (p.X - cx)), mu02 = points.Sum(p => (p.Y - cy) * (p.Y - cy));
        return new ShapeSignature(histogram.Select(h => h / n).ToArray(), n / (image.Width * image.Height), (mu20 + mu02) / (n * n));
    }

    /// <summary>
    /// 1 for the same colours, area and spread, falling towards 0 as they part: the histogram intersection times
    /// e^−|ln(area ratio)| times e^−|ln(spread ratio)|, so an image resembles another only in colour and shape at once.
    /// </summary>
    public double Similarity(ShapeSignature other)
    {
        double intersection = Histogram.Zip(other.Histogram, Math.Min).Sum();
        return intersection * Math.Exp(-Math.Abs(Math.Log(Area / other.Area))) * Math.Exp(-Math.Abs(Math.Log(Spread / other.Spread)));
    }

    private static int Level(byte value) => value * Levels / 256;
}
