namespace Peft.Typed.Models.Loading;

/// <summary>A strict load found missing, unexpected or mis-shaped tensors; nothing was copied into the model.</summary>
public sealed class CheckpointMismatchException : Exception
{
    public CheckpointMismatchException(LoadReport report) : base(report.Describe()) => Report = report;

    public LoadReport Report { get; }
}
