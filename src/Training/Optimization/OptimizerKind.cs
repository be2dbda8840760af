using System.Runtime.Serialization;

namespace Peft.Typed.Training.Optimization;

/// <summary>The optimizer of a run (<c>--optimizer</c>).</summary>
public enum OptimizerKind
{
    /// <summary><see cref="Optimization.AdamW"/>, PyTorch's update rule.</summary>
    [EnumMember(Value = "adamw")]
    AdamW,
    /// <summary><see cref="Optimization.Prodigy"/>: Adam with a learned step size; use a learning rate near 1.</summary>
    Prodigy,
}
