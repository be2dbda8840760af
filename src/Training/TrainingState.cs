using System.Text.Json;

namespace Peft.Typed.Training;

/// <summary>The part of a checkpoint that is not tensors: where the run was, and the loss history for the curve.</summary>
public sealed record TrainingState(int Step, int Seed, IReadOnlyList<double> Losses)
{
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
