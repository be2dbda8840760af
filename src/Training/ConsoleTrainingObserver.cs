using System.Globalization;

namespace Peft.Typed.Training;

/// <summary>Plain console reporting for app code: messages as they come, warnings on stderr, one line every <c>every</c> steps and at the last.</summary>
public sealed class ConsoleTrainingObserver(int every = 10) : ITrainingObserver
{
    public void Info(string message) => Console.WriteLine(message);

    public void Warning(string message) => Console.Error.WriteLine("warning: " + message);

    public void Step(TrainingProgress progress)
    {
        if (progress.Step % Math.Max(1, every) != 0 && progress.Step != progress.TotalSteps) return;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {progress.Step}/{progress.TotalSteps}  loss {progress.Loss:F4}  lr {progress.LearningRate:G3}"));
    }
}
