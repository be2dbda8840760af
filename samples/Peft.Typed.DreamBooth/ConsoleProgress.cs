using System.Globalization;
using Peft.Typed.Training;

namespace Peft.Typed.DreamBooth;

/// <summary>
/// A one-line progress bar (step, loss, learning rate, it/s, ETA) redrawn in place on a terminal; when output is
/// redirected, a plain line every 10 steps instead.
/// </summary>
internal sealed class ConsoleProgress : ITrainingObserver
{
    private const int BarWidth = 24;
    private readonly bool _interactive = !Console.IsOutputRedirected;
    private bool _barShown;

    public void Info(string message) => WriteLine(message);

    public void Warning(string message)
    {
        EndBar();
        Console.Error.WriteLine("warning: " + message);
    }

    public void Step(TrainingProgress p)
    {
        int filled = (int)Math.Round((double)p.Step / p.TotalSteps * BarWidth);
        var line = string.Format(CultureInfo.InvariantCulture,
            "step {0,5}/{1} [{2}{3}] loss {4:F4} lr {5:0.00e+0} {6:F2} it/s ETA {7:hh\\:mm\\:ss}",
            p.Step, p.TotalSteps, new string('#', filled), new string('.', BarWidth - filled), p.Loss, p.LearningRate, p.StepsPerSecond, p.Eta);
        if (_interactive)
        {
            Console.Write("\r" + line);
            _barShown = true;
            if (p.Step == p.TotalSteps) EndBar();
        }
        else if (p.Step % 10 == 0 || p.Step == p.TotalSteps)
        {
            Console.WriteLine(line);
        }
    }

    private void WriteLine(string message)
    {
        EndBar();
        Console.WriteLine(message);
    }

    private void EndBar()
    {
        if (!_barShown) return;
        Console.WriteLine();
        _barShown = false;
    }
}
