using Peft.Typed.Models.Pipelines;

namespace Peft.Typed.Models.Tests.Pipelines;

/// <summary>One tiny SDXL pipeline loaded from a <see cref="TinyXLPipelineFolder"/>, shared by the tests of a class.</summary>
public sealed class TinyXLPipelineFixture : IDisposable
{
    private readonly TinyXLPipelineFolder _folder = new();

    public TinyXLPipelineFixture() => Pipeline = StableDiffusionXLPipeline.FromPretrained(_folder.Path);

    public StableDiffusionXLPipeline Pipeline { get; }

    public void Dispose()
    {
        Pipeline.Dispose();
        _folder.Dispose();
    }
}
