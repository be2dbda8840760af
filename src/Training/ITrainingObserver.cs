namespace Peft.Typed.Training;

/// <summary>Receives a run's messages and per-step progress (the CLI draws its progress bar from these).</summary>
public interface ITrainingObserver
{
    void Info(string message);
    void Warning(string message);
    void Step(TrainingProgress progress);
}
