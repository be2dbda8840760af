using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Training;
using Peft.Typed.Training.Optimization;
using Peft.Typed.TypedDreamBooth;

// DefaultUnet and DefaultTextEncoder are generated at build time from the embedded model's config.json files (see the
// .csproj). Their targets are checked by the compiler; the trainer checks they belong to the model folder it loads.
// The UNet's adapter config is a file the app ships, adapters/unet/adapter_config.json, checked against DefaultUnet
// at build time (PeftAdapterFor in the .csproj) and read through its generated accessor, Adapters.Unet.
var textTargets = DefaultTextEncoder.Targets.QProj | DefaultTextEncoder.Targets.VProj;

var root = Path.Combine(AppContext.BaseDirectory, "DefaultModel");
var output = args.Length > 0 ? args[0] : Path.GetFullPath("typed-dreambooth-output");
var options = new DreamBoothOptions
{
    PretrainedModel = Path.Combine(root, "model"),
    InstanceDataDir = Path.Combine(root, "instance_images"),
    InstancePrompt = "a photo of sks toy",
    WithPriorPreservation = true,
    ClassPrompt = "a photo of toy",
    ClassDataDir = Path.Combine(output, "class_images"),
    NumClassImages = 4,
    InferenceSteps = 10,
    GuidanceScale = 1.5, // the scale the embedded model is checked at (docs/training.md)
    UnetAdapter = Adapters.Unet.Config,
    TextEncoderAdapter = new LoraConfig { R = 4, LoraAlpha = 4, TargetModules = textTargets },
    Resolution = 64,
    RandomFlip = true,
    TrainBatchSize = 2,
    MaxTrainSteps = args.Length > 1 ? int.Parse(args[1]) : 60,
    LearningRate = 2e-3,
    LrScheduler = LearningRateScheduler.ConstantWithWarmup,
    LrWarmupSteps = 10,
    Seed = 0,
    OutputDir = output,
    Overwrite = true,
};

var result = new DreamBoothTrainer(options).Run();
Console.WriteLine($"UNet adapter (PEFT folder): {result.UnetAdapterDir}");
Console.WriteLine($"Text-encoder adapter (PEFT folder): {result.TextEncoderAdapterDir}");
