using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Peft.Typed.Training.Data.Shapes;

public enum ShapeKind { Circle, Square, Triangle, Diamond }

public enum ShapeColor { Red, Green, Blue, Yellow, Purple, Orange }

public enum ShapeSize { Small, Large }

public enum ShapePosition { Left, Center, Right }

/// <summary>
/// One synthetic scene: a single filled shape on a plain light background, and its caption ("a small red circle on the
/// left"). Scenes are drawn by our own code so the embedded default model can be trained and checked without downloads.
/// </summary>
public sealed record ShapeScene(ShapeKind Kind, ShapeColor Color, ShapeSize Size, ShapePosition Position)
{
    /// <summary>The plain background every scene is drawn on.</summary>
    public static readonly Rgb24 Background = new(236, 236, 236);

    /// <summary>Fraction of the image width a shape spans, by size: far enough apart that area tells them apart.</summary>
    public static double Span(ShapeSize size) => size == ShapeSize.Small ? 0.28 : 0.56;

    /// <summary>The horizontal centre of a shape, as a fraction of the width.</summary>
    public static double CenterX(ShapePosition position) => position switch
    {
        ShapePosition.Left => 0.27,
        ShapePosition.Center => 0.5,
        _ => 0.73,
    };

    public static Rgb24 Rgb(ShapeColor color) => color switch
    {
        ShapeColor.Red => new Rgb24(220, 40, 40),
        ShapeColor.Green => new Rgb24(40, 170, 60),
        ShapeColor.Blue => new Rgb24(40, 80, 220),
        ShapeColor.Yellow => new Rgb24(235, 200, 30),
        ShapeColor.Purple => new Rgb24(140, 50, 180),
        _ => new Rgb24(240, 130, 30),
    };

    public string Caption => $"a {Name(Size)} {Name(Color)} {Name(Kind)} {Where(Position)}";

    /// <summary>
    /// The scene as <paramref name="pixels"/>² RGB, 4×4 supersampled at the edges. <paramref name="jitter"/> moves the
    /// shape by up to 4 % of the width and scales it by up to ±8 % (variety within a caption), never enough to change
    /// what the caption says; null draws the canonical scene.
    /// </summary>
    public Image<Rgb24> Render(int pixels, Random? jitter = null)
    {
        if (pixels < 8) throw new ArgumentOutOfRangeException(nameof(pixels), $"A scene needs at least 8 pixels, not {pixels}.");
        double dx = jitter is null ? 0 : (jitter.NextDouble() * 2 - 1) * 0.04;
        double dy = jitter is null ? 0 : (jitter.NextDouble() * 2 - 1) * 0.04;
        double scale = jitter is null ? 1 : 1 + (jitter.NextDouble() * 2 - 1) * 0.08;
        double cx = CenterX(Position) + dx, cy = 0.5 + dy, half = Span(Size) * scale / 2;
        return Draw(pixels, Rgb(Color), cx, cy, half, (u, v) => Contains(Kind, u, v));
    }

    /// <summary>
    /// One filled shape in <paramref name="color"/> on <see cref="Background"/>, <paramref name="pixels"/>², 4×4
    /// supersampled at the edges: <paramref name="contains"/> takes shape coordinates (u, v) in [-1, 1] over the
    /// shape's box of half-width <paramref name="half"/> centred at (<paramref name="cx"/>, <paramref name="cy"/>),
    /// fractions of the width, v pointing up.
    /// </summary>
    public static Image<Rgb24> Draw(int pixels, Rgb24 color, double cx, double cy, double half, Func<double, double, bool> contains)
    {
        var image = new Image<Rgb24>(pixels, pixels);
        const int samples = 4;
        for (int y = 0; y < pixels; y++)
        {
            for (int x = 0; x < pixels; x++)
            {
                int inside = 0;
                for (int sy = 0; sy < samples; sy++)
                {
                    for (int sx = 0; sx < samples; sx++)
                    {
                        double u = ((x + (sx + 0.5) / samples) / pixels - cx) / half;
                        double v = -((y + (sy + 0.5) / samples) / pixels - cy) / half;
                        if (contains(u, v)) inside++;
                    }
                }
                double a = inside / (double)(samples * samples);
                image[x, y] = new Rgb24(Mix(Background.R, color.R, a), Mix(Background.G, color.G, a), Mix(Background.B, color.B, a));
            }
        }
        return image;
    }

    private static byte Mix(byte background, byte shape, double a) => (byte)Math.Round(background + (shape - background) * a);

    private static bool Contains(ShapeKind kind, double u, double v) => kind switch
    {
        ShapeKind.Circle => u * u + v * v <= 1,
        ShapeKind.Square => Math.Abs(u) <= 0.85 && Math.Abs(v) <= 0.85,
        ShapeKind.Triangle => v >= -0.8 && v <= 1 && Math.Abs(u) <= (1 - v) / 1.8,
        _ => Math.Abs(u) + Math.Abs(v) <= 1,
    };

    private static string Name<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    private static string Where(ShapePosition position) => position == ShapePosition.Center ? "in the middle" : $"on the {Name(position)}";
}
