namespace Peft.Typed.Models.Tests;

/// <summary>
/// Tests that seed libtorch's process-wide generator and then depend on its draws (dropout masks) run alone: a test
/// on another thread drawing from it in between changes the masks.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalGeneratorCollection
{
    public const string Name = "Global generator";
}
