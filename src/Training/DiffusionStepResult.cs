using static TorchSharp.torch;

namespace Peft.Typed.Training;

/// <summary>The loss of a <see cref="DiffusionTrainingStep"/> (scalar, with its graph) and its prior-preservation term (before weighting), if any.</summary>
public sealed record DiffusionStepResult(Tensor Loss, Tensor? PriorLoss);
