using System.Globalization;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Training.Imaging;
using static TorchSharp.torch;

namespace Peft.Typed.Training;

/// <summary>
/// The scripts' validation: <c>num_validation_images</c> images of <c>validation_prompt</c> from the model being
/// trained, one PNG per validation step. Each PNG shows the base model's images (adapters off) above the adapter's,
/// from the same seeds, each row labelled, so what the adapter changed is visible and steps compare. With prior
/// preservation the class prompt's rows follow, which show how much the adapter changed the class.
/// </summary>
internal sealed class ValidationImages(DreamBoothOptions options, TrainingModels models, string folder) : IDisposable
{
    // The base model is frozen: its images are the same at every step, so they are made once.
    private List<Tensor>? _baseImages;

    private IReadOnlyList<string> Prompts =>
        options.WithPriorPreservation && options.ClassPrompt is { } classPrompt ? [options.ValidationPrompt!, classPrompt] : [options.ValidationPrompt!];

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
                _baseImages = Prompts.Select(prompt => Sample(prompt, seed).DetachFromDisposeScope()).ToList();
            }
            LabelledGrid.Save(path, [.. Prompts.SelectMany((prompt, i) => new[] { ($"base model: {prompt}", _baseImages[i]), ($"step {step}: {prompt}", Sample(prompt, seed)) })]);
        }
        finally
        {
            models.SetTraining(true);
        }
        return path;
    }

    private Tensor Sample(string prompt, int seed)
    {
        using var generator = new Generator((ulong)seed);
        return models.Pipeline.Generate(prompt, new GenerationOptions
        {
            NumInferenceSteps = options.InferenceSteps,
            GuidanceScale = options.GuidanceScale,
            NumImagesPerPrompt = options.NumValidationImages,
            Height = options.Resolution,
            Width = options.Resolution,
            Generator = generator,
        });
    }

    public void Dispose() => _baseImages?.ForEach(images => images.Dispose());
}
