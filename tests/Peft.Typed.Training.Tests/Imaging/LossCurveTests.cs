using SkiaSharp;

namespace Peft.Typed.Training.Tests.Imaging;

public sealed class LossCurveTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-loss-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_smoothed_line_is_the_trailing_mean_of_the_finite_losses()
    {
        Assert.Equal([4.0, 3.0, 2.0, 4.0, 4.0, 6.0, 6.0], LossCurve.Smooth([4, 2, double.NaN, 4, double.NaN, 6, double.NaN], 2));
        Assert.Equal([1.0, double.NaN], LossCurve.Smooth([1, double.NaN], 1));
        Assert.Equal(1, LossCurve.SmoothingWindow(19));
        Assert.Equal(5, LossCurve.SmoothingWindow(100));
    }

    [Fact]
    public void The_plot_has_the_moving_average_in_blue_and_leaves_no_temporary_file()
    {
        var path = Path.Combine(_dir, "loss.png");
        LossCurve.Write(path, [.. Enumerable.Range(0, 100).Select(i => 1.0 / (1 + i) + (i % 3) * 0.01), double.NaN]);
        using var bitmap = SKBitmap.Decode(path);
        Assert.Equal((640, 360), (bitmap.Width, bitmap.Height));
        var pixels = bitmap.Pixels;
        Assert.Contains(pixels, p => p.Red == 31 && p.Green == 119 && p.Blue == 180);
        Assert.Equal(["loss.png"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }
}
