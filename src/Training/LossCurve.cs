using Peft.Typed.Models.IO;
using ScottPlot;

namespace Peft.Typed.Training;

/// <summary>
/// The loss plot (<c>loss.png</c>): the loss of every step in light grey and a moving average over a twentieth of the
/// run in blue (a run under 40 steps shows its losses in blue), with axes, ticks and labels (ScottPlot).
/// </summary>
public static class LossCurve
{
    private const int Width = 640, Height = 360;

    public static void Write(string path, IReadOnlyList<double> losses)
    {
        var plot = new Plot();
        var finite = Enumerable.Range(0, losses.Count).Where(i => double.IsFinite(losses[i])).ToArray();
        if (finite.Length > 0)
        {
            // Steps count from 1; a non-finite loss is left out of both lines.
            var steps = finite.Select(i => i + 1.0).ToArray();
            var raw = plot.Add.ScatterLine(steps, finite.Select(i => losses[i]).ToArray());
            raw.Color = Colors.Gray.WithAlpha(0.6);
            raw.LegendText = "loss";
            int window = SmoothingWindow(losses.Count);
            if (window > 1)
            {
                var smoothed = Smooth(losses, window);
                var average = plot.Add.ScatterLine(steps, finite.Select(i => smoothed[i]).ToArray());
                average.Color = new Color(31, 119, 180);
                average.LineWidth = 2;
                average.LegendText = $"mean of the last {window} steps";
            }
            else
            {
                raw.Color = new Color(31, 119, 180);
            }
            plot.ShowLegend(Alignment.UpperRight);
        }
        plot.Title("Training loss");
        plot.XLabel("step");
        plot.YLabel("loss");
        AtomicFile.WriteAllBytes(path, plot.GetImageBytes(Width, Height, ImageFormat.Png));
    }

    /// <summary>The moving-average window: a twentieth of the run, at least one step.</summary>
    public static int SmoothingWindow(int steps) => Math.Max(1, steps / 20);

    /// <summary>Trailing mean over <paramref name="window"/> steps of the finite losses (NaN where a window has none).</summary>
    public static double[] Smooth(IReadOnlyList<double> losses, int window)
    {
        var result = new double[losses.Count];
        for (int i = 0; i < losses.Count; i++)
        {
            var slice = Enumerable.Range(Math.Max(0, i - window + 1), Math.Min(window, i + 1)).Select(j => losses[j]).Where(double.IsFinite).ToList();
            result[i] = slice.Count > 0 ? slice.Average() : double.NaN;
        }
        return result;
    }
}
