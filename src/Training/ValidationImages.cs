using System.Globalization;
using Peft.Typed.Models.Imaging;
using Peft.Typed.Models.Pipelines;
using static TorchSharp.torch;

namespace Peft.Typed.Training;

/// <summary>
/// The scripts' validation: <c>num_validation_images</c> images of <c>validation_prompt</c> from the model being
/// trained, saved side by side as one PNG per validation step (the same seed each time, so steps compare).
/// </summary>
internal sealed class ValidationImages(DreamBoothOptions options, TrainingModels models, string folder)
{
    public string Generate(int step, int seed)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"step-{step.ToString("D6", CultureInfo.InvariantCulture)}.png");
        models.SetTraining(false);
        try
        {
            using var scope = NewDisposeScope();
            using var generator = new Generator((ulong)seed);
            var images = models.Pipeline.Generate(options.ValidationPrompt!, new GenerationOptions
            {
                NumInferenceSteps = options.InferenceSteps,
                GuidanceScale = options.GuidanceScale,
                NumImagesPerPrompt = options.NumValidationImages,
                Height = options.Resolution,
                Width = options.Resolution,
                Generator = generator,
            });
            // [N, 3, H, W] → one row [3, H, N·W].
            var grid = cat(images.unbind(0), 2);
            ImageTensors.SavePng(grid, path);
        }
        finally
        {
            models.SetTraining(true);
        }
        return path;
    }
}
