namespace Peft.Typed.Training.Tests.Trainer;

/// <summary>
/// Trainer runs seed libtorch's process-wide generator (adapter initialisation draws from it), so they must not run
/// beside other tests that draw from or reseed it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainerCollection
{
    public const string Name = "Trainer runs";
}
