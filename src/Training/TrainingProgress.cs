namespace Peft.Typed.Training;

/// <summary>The state after one optimizer step.</summary>
public sealed record TrainingProgress(int Step, int TotalSteps, double Loss, double LearningRate, double StepsPerSecond, TimeSpan Eta);
