using Peft.Typed.Models.Pipelines;

namespace Peft.Typed.Models.Tests.Pipelines;

/// <summary>One tiny pipeline loaded from a <see cref="TinyPipelineFolder"/>, shared by the tests of a class (which run one at a time).</summary>
public sealed class TinyPipelineFixture : IDisposable
{
    private readonly TinyPipelineFolder _folder = new();

    public TinyPipelineFixture() => Pipeline = StableDiffusionPipeline.FromPretrained(_folder.Path);

    public StableDiffusionPipeline Pipeline { get; }

    public void Dispose()
    {
        Pipeline.Dispose();
        _folder.Dispose();
    }
}
