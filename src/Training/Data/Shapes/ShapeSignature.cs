using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Peft.Typed.Training.Data.Shapes;

/// <summary>
/// What an image's foreground (the pixels off <see cref="ShapeScene.Background"/>) looks like, reduced to numbers two
/// images can be compared by: its colour histogram (4 levels per channel), its area, its spread (Hu's first moment
/// invariant η20 + η02) and its outline (boundary pixels² / area, which tells a star from a triangle or a circle of the
/// same spread whatever its size and position).
/// </summary>
public sealed record ShapeSignature(IReadOnlyList<double> Histogram, double Area, double Spread, double Outline)
{
    private const int Levels = 4;

    /// <summary>The signature of <paramref name="image"/>; null when it has no foreground.</summary>
    public static ShapeSignature? Of(Image<Rgb24> image)
    {
        // Each pixel is classified once; the outline test then reads its neighbours' classes.
        var foreground = new bool[image.Width, image.Height];
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++) foreground[x, y] = ShapeMeasurement.IsForeground(image[x, y]);
        }
        bool Foreground(int x, int y) => x >= 0 && y >= 0 && x < image.Width && y < image.Height && foreground[x, y];

        var histogram = new double[Levels * Levels * Levels];
        var points = new List<(double X, double Y)>();
        int boundary = 0;
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                if (!foreground[x, y]) continue;
                var p = image[x, y];
                points.Add((x + 0.5, y + 0.5));
                if (!Foreground(x - 1, y) || !Foreground(x + 1, y) || !Foreground(x, y - 1) || !Foreground(x, y + 1)) boundary++;
                histogram[(Level(p.R) * Levels + Level(p.G)) * Levels + Level(p.B)]++;
            }
        }
        if (points.Count == 0) return null;
        double n = points.Count, cx = points.Average(p => p.X), cy = points.Average(p => p.Y);
        double mu20 = points.Sum(p => (p.X - cx) * (p.X - cx)), mu02 = points.Sum(p => (p.Y - cy) * (p.Y - cy));
        return new ShapeSignature(histogram.Select(h => h / n).ToArray(), n / (image.Width * image.Height), (mu20 + mu02) / (n * n), (double)boundary * boundary / n);
    }

    /// <summary>
    /// 1 for the same colours, area, spread and outline, falling towards 0 as they part: the histogram intersection times
    /// e^−|ln(ratio)| of each of the others, so an image resembles another only in colour and shape at once.
    /// </summary>
    public double Similarity(ShapeSignature other)
    {
        double intersection = Histogram.Zip(other.Histogram, Math.Min).Sum();
        return intersection * Ratio(Area, other.Area) * Ratio(Spread, other.Spread) * Ratio(Outline, other.Outline);
    }

    private static double Ratio(double a, double b) => Math.Exp(-Math.Abs(Math.Log(a / b)));

    private static int Level(byte value) => value * Levels / 256;
}
