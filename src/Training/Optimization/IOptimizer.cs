using static TorchSharp.torch;

namespace Peft.Typed.Training.Optimization;

/// <summary>
/// What the trainer needs of an optimizer: one update at a given learning rate, zeroing the gradients, and its whole
/// state as named tensors so a checkpoint restores it exactly (<see cref="AdamW"/>, <see cref="Prodigy"/>).
/// </summary>
public interface IOptimizer : IDisposable
{
    /// <summary>Number of updates applied so far.</summary>
    long StepCount { get; }

    IEnumerable<TorchSharp.Modules.Parameter> Parameters { get; }

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/> to every parameter that has a gradient.</summary>
    void Step(double learningRate);

    void ZeroGrad();

    /// <summary>The state as named tensors (per-parameter tensors are named <c>parameter.kind</c>) plus <c>step</c>.</summary>
    Dictionary<string, Tensor> StateDict();

    /// <summary>Restores <see cref="StateDict"/>; every tensor must belong to a parameter of this optimizer.</summary>
    void LoadStateDict(IReadOnlyDictionary<string, Tensor> state);
}
