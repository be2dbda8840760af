using Peft.Typed.Models.Imaging;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Data.Shapes;

/// <summary>One generated image of a caption and what <see cref="ShapeMeasurement"/> reads from it (null: no shape drawn).</summary>
public sealed record ShapeCaptionSample(ShapeScene Scene, int Sample, ShapeMeasurement? Measured)
{
    public bool Agrees => Measured?.Agrees(Scene) == true;
}

/// <summary>
/// Does a model draw what it is asked? Generates each scene's caption and measures the images: colour, size and
/// position must agree with the caption (<see cref="ShapeMeasurement.Agrees"/>).
/// </summary>
public static class ShapeCaptionCheck
{
    /// <summary>
    /// <paramref name="samplesPerScene"/> images of every scene's caption at <paramref name="guidanceScale"/>, all from one
    /// generator seeded with <paramref name="seed"/> (the same seed gives the same images), in scene order.
    /// </summary>
    public static IReadOnlyList<ShapeCaptionSample> Run(DiffusionPipeline pipeline, IReadOnlyList<ShapeScene> scenes, int samplesPerScene, int seed,
        double guidanceScale, int inferenceSteps = 25)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samplesPerScene, 1);
        using var generator = new Generator((ulong)seed);
        var options = new GenerationOptions { NumImagesPerPrompt = samplesPerScene, NumInferenceSteps = inferenceSteps, GuidanceScale = guidanceScale, Generator = generator };
        var results = new List<ShapeCaptionSample>(scenes.Count * samplesPerScene);
        foreach (var chunk in scenes.Chunk(8))
        {
            using var scope = NewDisposeScope();
            var images = pipeline.Generate(chunk.Select(s => s.Caption).ToList(), options);
            for (int i = 0; i < images.shape[0]; i++)
            {
                using var image = ImageTensors.ToImage(images[i]);
                results.Add(new ShapeCaptionSample(chunk[i / samplesPerScene], i % samplesPerScene, ShapeMeasurement.Of(image)));
            }
        }
        return results;
    }

    /// <summary>
    /// The VAE's side of the check: one jittered render of every scene (drawn from <paramref name="seed"/>), encoded to
    /// its posterior mean and decoded again as the pipeline decodes latents, then measured. A model cannot draw a
    /// caption more faithfully than its VAE reconstructs the scene, so this bounds what <see cref="Run"/> can show.
    /// </summary>
    public static IReadOnlyList<ShapeCaptionSample> RoundTrip(DiffusionPipeline pipeline, IReadOnlyList<ShapeScene> scenes, int resolution, int seed)
    {
        var random = new Random(seed);
        var vae = pipeline.Vae;
        var dtype = vae.parameters().First().dtype;
        var results = new List<ShapeCaptionSample>(scenes.Count);
        using var noGrad = no_grad();
        foreach (var chunk in scenes.Chunk(16))
        {
            using var scope = NewDisposeScope();
            var latents = vae.Encode(ShapeScenes.Render(chunk, resolution, random).to_type(dtype)).Mean.Mul(vae.Config.ScalingFactor);
            var decoded = pipeline.DecodeLatents(latents);
            for (int i = 0; i < chunk.Length; i++)
            {
                using var image = ImageTensors.ToImage(decoded[i]);
                results.Add(new ShapeCaptionSample(chunk[i], 0, ShapeMeasurement.Of(image)));
            }
        }
        return results;
    }
}
