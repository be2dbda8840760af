using System.Globalization;
using Peft.Typed.Models.Imaging;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Training.Data;
using static TorchSharp.torch;

namespace Peft.Typed.Training;

/// <summary>
/// Prior preservation's class images: when --class_data_dir holds fewer than --num_class_images readable images, the
/// missing ones are sampled from the base model (adapters disabled) with --class_prompt, --sample_batch_size at a time.
/// Each image is written atomically (ImageTensors.SavePng) and image k always comes from seed + k, so an interrupted generation resumes where
/// it stopped and yields the same set.
/// </summary>
internal sealed class ClassImageGenerator(DreamBoothOptions options, TrainingModels models, ITrainingObserver observer)
{
    public void EnsureClassImages(int seed, CancellationToken cancellation)
    {
        var folder = options.ClassDataDir!;
        Directory.CreateDirectory(folder);
        int existing = ImageFolder.CountDecodable(folder);
        int missing = options.NumClassImages - existing;
        if (missing <= 0) return;
        observer.Info($"Generating {missing} class image(s) of '{options.ClassPrompt}' into {folder}.");

        models.SetTraining(false);
        using var noAdapter = models.UnetPeft.DisableAdapter();
        using var noTextAdapter = models.TextEncoderPeft?.DisableAdapter();
        using var noTextAdapter2 = models.TextEncoder2Peft?.DisableAdapter();
        try
        {
            for (int start = existing; start < options.NumClassImages; start += options.SampleBatchSize)
            {
                cancellation.ThrowIfCancellationRequested();
                int count = Math.Min(options.SampleBatchSize, options.NumClassImages - start);
                using var scope = NewDisposeScope();
                using var generator = new Generator((ulong)(seed + start));
                var images = models.Pipeline.Generate(options.ClassPrompt!, new GenerationOptions
                {
                    NumInferenceSteps = options.InferenceSteps,
                    GuidanceScale = options.GuidanceScale,
                    NumImagesPerPrompt = count,
                    Height = options.Resolution,
                    Width = options.Resolution,
                    Generator = generator,
                });
                for (int i = 0; i < count; i++)
                {
                    var path = Path.Combine(folder, $"class-{(start + i).ToString("D5", CultureInfo.InvariantCulture)}.png");
                    ImageTensors.SavePng(images[i], path);
                }
            }
        }
        finally
        {
            models.SetTraining(true);
        }
    }
}
