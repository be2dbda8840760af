using Peft.Typed.Models.Pipelines;
using Peft.Typed.Models.SafeTensors;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Pipelines;

/// <summary>
/// A pipeline folder as people have them, with an fp16 text encoder beside an fp32 UNet: by default every component
/// computes in float32 (diffusers without torch_dtype); <see cref="DiffusionPipeline.FromPretrainedInStoredDTypes"/>
/// keeps each as stored, and the pipeline still samples.
/// </summary>
public sealed class StoredDTypeLoadingTests : IDisposable
{
    private readonly TinyPipelineFolder _folder = new();

    public StoredDTypeLoadingTests()
    {
        var weights = Path.Combine(_folder.Path, "text_encoder", "model.safetensors");
        using var scope = NewDisposeScope();
        var half = SafetensorsFile.LoadAll(weights).ToDictionary(kv => kv.Key, kv => kv.Value.is_floating_point() ? kv.Value.to_type(ScalarType.Float16) : kv.Value);
        SafetensorsWriter.Save(weights, half);
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Each_component_keeps_its_stored_dtype_and_the_pipeline_samples()
    {
        using var pipeline = DiffusionPipeline.FromPretrainedInStoredDTypes(_folder.Path);
        Assert.All(pipeline.TextEncoder.parameters(), p => Assert.Equal(ScalarType.Float16, p.dtype));
        Assert.All(pipeline.Unet.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.All(pipeline.Vae.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));

        using var scope = NewDisposeScope();
        using var generator = new Generator(1);
        var images = pipeline.Generate("a photo of a cat", new GenerationOptions { NumInferenceSteps = 2, Height = 32, Width = 32, Generator = generator });
        Assert.Equal(new long[] { 1, 3, 32, 32 }, images.shape);
        Assert.True(images.isfinite().all().item<bool>());
    }

    [Fact]
    public void By_default_every_component_computes_in_float32()
    {
        using var pipeline = StableDiffusionPipeline.FromPretrained(_folder.Path);
        Assert.All(pipeline.TextEncoder.parameters().Concat(pipeline.Unet.parameters()), p => Assert.Equal(ScalarType.Float32, p.dtype));
    }
}
