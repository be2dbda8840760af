namespace Peft.Typed.Training;

/// <summary>The loss became NaN or infinite; the run stopped without writing anything from the diverged state.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
