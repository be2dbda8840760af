namespace Peft.Typed.Models.Tests;

/// <summary>
/// Tests whose references are TorchSharp calls that make their own Scalars run them through
/// <see cref="Peft.Typed.Testing.WithoutCollection"/>, alone: another test allocating meanwhile would end its no-GC region.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReferenceCallsCollection
{
    public const string Name = "TorchSharp reference calls";
}
