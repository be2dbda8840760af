using System.CommandLine;
using System.Globalization;
using Peft.Typed.Training;
using Peft.Typed.Training.Optimization;
using Peft.Typed.Training.Pretraining;

namespace Peft.Typed.DreamBooth;

/// <summary>
/// The demo run: a tiny Stable Diffusion model pre-trained on captioned shapes (configs and weights under
/// DefaultModel/model/, made by <c>create-default-model</c>; <c>--model sdxl-tiny</c>: the random tiny SDXL model under
/// DefaultModel/model-sdxl/) and four bundled images of a yellow star, a subject the model never saw, with
/// settings that finish in minutes on 2 CPU cores.
/// </summary>
internal static class EmbeddedDefault
{
    public const string InstancePrompt = "a photo of sks toy";
    private const string ClassPrompt = "a photo of toy";

    public static string Root => Path.Combine(AppContext.BaseDirectory, "DefaultModel");
    public const string SdFolderName = "model";
    public const string SdxlFolderName = "model-sdxl";

    public static string ModelFolder => Path.Combine(Root, SdFolderName);

    /// <summary>The guidance scale the embedded model was checked at (its pre-training recipe's): 7.5 overshoots its colours.</summary>
    public static double GuidanceScale => new ShapesPretrainingOptions().GuidanceScale;

    /// <summary>The embedded model named by <c>--model</c>: sd-tiny (default, also when null) or sdxl-tiny.</summary>
    public static string ModelFolderOf(string? name) => name switch
    {
        null or "sd-tiny" => ModelFolder,
        "sdxl-tiny" => Path.Combine(Root, SdxlFolderName),
        _ => throw new DreamBoothOptionException("model", $"--model '{name}': must be sd-tiny or sdxl-tiny."),
    };
    public static string InstanceImages => Path.Combine(Root, "instance_images");

    /// <summary>A fresh, timestamped folder so repeated demo runs never collide.</summary>
    public static string NewOutputDir() =>
        Path.GetFullPath(Path.Combine("output", "dreambooth-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)));

    /// <summary>The demo's values for every option the user did not give.</summary>
    private static readonly (string Option, Func<DreamBoothOptions, DreamBoothOptions> Apply)[] Settings =
    [
        ("--resolution", o => o with { Resolution = 64 }),
        ("--train_batch_size", o => o with { TrainBatchSize = 2 }),
        ("--max_train_steps", o => o with { MaxTrainSteps = 400 }),
        ("--learning_rate", o => o with { LearningRate = 2e-3 }),
        ("--lr_warmup_steps", o => o with { LrWarmupSteps = 10 }),
        ("--lr_scheduler", o => o with { LrScheduler = LearningRateScheduler.ConstantWithWarmup }),
        ("--with_prior_preservation", o => o with { WithPriorPreservation = true }),
        ("--class_prompt", o => o with { ClassPrompt = ClassPrompt }),
        ("--class_data_dir", o => o with { ClassDataDir = Path.Combine(o.OutputDir, "class_images") }),
        ("--num_class_images", o => o with { NumClassImages = 4 }),
        ("--inference_steps", o => o with { InferenceSteps = 10 }),
        ("--guidance_scale", o => o with { GuidanceScale = GuidanceScale }),
        ("--validation_prompt", o => o with { ValidationPrompt = InstancePrompt }),
        ("--validation_steps", o => o with { ValidationSteps = 200 }),
        ("--checkpointing_steps", o => o with { CheckpointingSteps = 100 }),
        ("--checkpoints_total_limit", o => o with { CheckpointsTotalLimit = 2 }),
        ("--seed", o => o with { Seed = 0 }),
        ("--random_flip", o => o with { RandomFlip = true }),
    ];

    public static string Describe() =>
        "resolution 64, batch 2, 400 steps, learning rate 2e-3 with 10 warm-up steps, prior preservation with 4 generated class images, " +
        $"guidance scale {GuidanceScale.ToString(CultureInfo.InvariantCulture)}, validation every 200 steps, checkpoints every 100, seed 0";

    public static DreamBoothOptions Apply(DreamBoothOptions options, ParseResult result, TrainerCommand command)
    {
        foreach (var (option, apply) in Settings)
        {
            if (!command.WasGiven(result, option)) options = apply(options);
        }
        return options;
    }
}
