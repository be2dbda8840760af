using System.Globalization;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Training.Imaging;
using static TorchSharp.torch;

namespace Peft.Typed.Training;

/// <summary>
/// The scripts' validation: <c>num_validation_images</c> images of <c>validation_prompt</c> from the model being
/// trained, one PNG per validation step. Each PNG shows the base model's images (adapters off) above the adapter's,
/// from the same seeds, each row labelled, so what the adapter changed is visible and steps compare.
/// </summary>
internal sealed class ValidationImages(DreamBoothOptions options, TrainingModels models, string folder) : IDisposable
{
    // The base model is frozen: its images are the same at every step, so they are made once.
    private Tensor? _baseImages;

    public string Generate(int step, int seed)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"step-{step.ToString("D6", CultureInfo.InvariantCulture)}.png");
        models.SetTraining(false);
        try
        {
            using var scope = NewDisposeScope();
            if (_baseImages is null)
            {
                using var disabled = models.DisableAdapters();
                _baseImages = Sample(seed).DetachFromDisposeScope();
            }
            var adapted = Sample(seed);
            var prompt = options.ValidationPrompt!;
            LabelledGrid.Save(path, [($"base model: {prompt}", _baseImages), ($"step {step}: {prompt}", adapted)]);
        }
        finally
        {
            models.SetTraining(true);
        }
        return path;
    }

    private Tensor Sample(int seed)
    {
        using var generator = new Generator((ulong)seed);
        return models.Pipeline.Generate(options.ValidationPrompt!, new GenerationOptions
        {
            NumInferenceSteps = options.InferenceSteps,
            GuidanceScale = options.GuidanceScale,
            NumImagesPerPrompt = options.NumValidationImages,
            Height = options.Resolution,
            Width = options.Resolution,
            Generator = generator,
        });
    }

    public void Dispose() => _baseImages?.Dispose();
}
