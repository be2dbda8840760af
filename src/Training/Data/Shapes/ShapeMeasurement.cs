using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Peft.Typed.Training.Data.Shapes;

/// <summary>What an image shows, read back the simple way: the pixels that differ from the background are the shape.</summary>
/// <param name="Color">The palette colour nearest the shape's mean colour.</param>
/// <param name="CenterX">The shape's centroid (first image moment), as a fraction of the width.</param>
/// <param name="Area">The shape's area (zeroth moment), as a fraction of the image.</param>
public sealed record ShapeMeasurement(ShapeColor Color, double CenterX, double Area)
{
    // A pixel counts as shape when it is this far (summed over channels) from the background.
    private const int Threshold = 90;

    /// <summary>
    /// The size the area says. Areas are 4× apart between sizes; the threshold (0.094 of the image) lies between the
    /// largest small shape (a circle jittered +8 %: 0.072) and the smallest large one (a triangle jittered −8 %: 0.119).
    /// </summary>
    public ShapeSize Size => Area < 0.6 * ShapeScene.Span(ShapeSize.Small) * ShapeScene.Span(ShapeSize.Large) ? ShapeSize.Small : ShapeSize.Large;

    /// <summary>The position the centroid says: the nearest of the three canonical centres.</summary>
    public ShapePosition Position => Enum.GetValues<ShapePosition>().MinBy(p => Math.Abs(ShapeScene.CenterX(p) - CenterX));

    /// <summary>True when colour, size and position all agree with <paramref name="scene"/>'s caption.</summary>
    public bool Agrees(ShapeScene scene) => Color == scene.Color && Size == scene.Size && Position == scene.Position;

    /// <summary>Measures <paramref name="image"/>; null when no pixel differs from the background (no shape drawn).</summary>
    public static ShapeMeasurement? Of(Image<Rgb24> image)
    {
        long count = 0;
        double sumX = 0, r = 0, g = 0, b = 0;
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                var p = image[x, y];
                if (!IsForeground(p)) continue;
                count++;
                sumX += x + 0.5;
                r += p.R;
                g += p.G;
                b += p.B;
            }
        }
        if (count == 0) return null;
        var color = Enum.GetValues<ShapeColor>().MinBy(c =>
        {
            var q = ShapeScene.Rgb(c);
            return Square(q.R - r / count) + Square(q.G - g / count) + Square(q.B - b / count);
        });
        return new ShapeMeasurement(color, sumX / count / image.Width, count / (double)(image.Width * image.Height));
    }

    /// <summary>True for a pixel far enough from the background to count as shape.</summary>
    public static bool IsForeground(Rgb24 p)
    {
        var background = ShapeScene.Background;
        return Math.Abs(p.R - background.R) + Math.Abs(p.G - background.G) + Math.Abs(p.B - background.B) >= Threshold;
    }

    private static double Square(double x) => x * x;
}
