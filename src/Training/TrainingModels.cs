using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Models.Tokenizers;
using Peft.Typed.Models.Unet;
using Peft.Typed.Models.Vae;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Training;

/// <summary>
/// The models of a DreamBooth run, loaded from a diffusers pipeline folder, with the adapters applied: the UNet (and
/// the text encoder with --train_text_encoder) carry trainable adapters, everything else is frozen. The pipeline
/// around them samples class and validation images with the adapters as they are.
/// </summary>
public sealed class TrainingModels : IDisposable
{
    private TrainingModels(StableDiffusionPipeline pipeline, PeftModel unetPeft, PeftModel? textEncoderPeft, ScalarType weightDType)
    {
        Pipeline = pipeline;
        UnetPeft = unetPeft;
        TextEncoderPeft = textEncoderPeft;
        WeightDType = weightDType;
    }

    public StableDiffusionPipeline Pipeline { get; }
    public ClipTokenizer Tokenizer => Pipeline.Tokenizer;
    public CLIPTextModel TextEncoder => Pipeline.TextEncoder;
    public AutoencoderKL Vae => Pipeline.Vae;
    public UNet2DConditionModel Unet => Pipeline.Unet;
    /// <summary>The DDPM scheduler built from the pipeline's scheduler config: the training noise schedule.</summary>
    public DDPMScheduler NoiseScheduler => Pipeline.NoiseScheduler;
    public PeftModel UnetPeft { get; }
    public PeftModel? TextEncoderPeft { get; }
    public Device Device => Pipeline.Device;

    /// <summary>The dtype of the frozen weights (float32 unless mixed precision is on).</summary>
    public ScalarType WeightDType { get; }

    /// <summary>
    /// Loads the pipeline, checks each adapter config's targets against its model (errors throw
    /// <see cref="DreamBoothOptionException"/>, warnings go to <paramref name="warning"/>) and applies the adapters.
    /// </summary>
    public static TrainingModels Load(DreamBoothOptions options, Device device, Action<string>? warning = null)
    {
        var folder = options.PretrainedModel;
        if (!Directory.Exists(folder))
            throw new DreamBoothOptionException("pretrained_model_name_or_path", $"--pretrained_model_name_or_path: folder '{folder}' does not exist.");
        var pipeline = StableDiffusionPipeline.FromPretrained(folder, ScalarType.Float32, device);
        if (pipeline.IsXL)
        {
            pipeline.Dispose();
            throw new DreamBoothOptionException("pretrained_model_name_or_path", $"--pretrained_model_name_or_path: '{folder}' is an SDXL pipeline; DreamBooth training supports SD 1.x/2.x pipelines.");
        }
        PeftModel unetPeft;
        PeftModel? textEncoderPeft = null;
        try
        {
            foreach (var message in AdapterTargetCheck.Check(options.UnetAdapter, pipeline.Unet, "the UNet", "unet")) warning?.Invoke(message);
            if (options.TextEncoderAdapter is { } te)
                foreach (var message in AdapterTargetCheck.Check(te, pipeline.TextEncoder, "the text encoder", "te")) warning?.Invoke(message);
            Freeze(pipeline.Vae);
            Freeze(pipeline.TextEncoder);
            Freeze(pipeline.Unet);
            unetPeft = PeftModel.Create(pipeline.Unet, PeftBaseModel.Describe(options.UnetAdapter, pipeline.Unet, folder));
            if (options.TextEncoderAdapter is { } teConfig)
                textEncoderPeft = PeftModel.Create(pipeline.TextEncoder, PeftBaseModel.Describe(teConfig, pipeline.TextEncoder, folder));
        }
        catch
        {
            pipeline.Dispose();
            throw;
        }
        var weightDType = MixedPrecisionCaster.WeightDType(options.MixedPrecision) ?? ScalarType.Float32;
        if (weightDType != ScalarType.Float32)
        {
            pipeline.Vae.to(weightDType);
            MixedPrecisionCaster.CastFrozenLeaves(pipeline.Unet, weightDType);
            MixedPrecisionCaster.CastFrozenLeaves(pipeline.TextEncoder, weightDType);
        }
        if (options.GradientCheckpointing) pipeline.Unet.GradientCheckpointing = true;
        pipeline.Unet.train();
        if (textEncoderPeft is not null) pipeline.TextEncoder.train();
        return new TrainingModels(pipeline, unetPeft, textEncoderPeft, weightDType);
    }

    /// <summary>Every trainable tensor, named <c>unet.&lt;path&gt;</c> or <c>text_encoder.&lt;path&gt;</c>.</summary>
    public IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter)> TrainableParameters()
    {
        var result = Unet.named_parameters().Where(p => p.parameter.requires_grad).Select(p => ("unet." + p.name, p.parameter)).ToList();
        if (TextEncoderPeft is not null)
            result.AddRange(TextEncoder.named_parameters().Where(p => p.parameter.requires_grad).Select(p => ("text_encoder." + p.name, p.parameter)));
        return result;
    }

    /// <summary>The training step over these models (the trainer's; app code may drive it in its own loop).</summary>
    public DiffusionTrainingStep TrainingStep(DiffusionObjective objective) => new(Vae, TextEncoder, Unet, NoiseScheduler, objective);

    /// <summary>Switches the trained models between training (dropouts active) and sampling.</summary>
    public void SetTraining(bool training)
    {
        Unet.train(training);
        if (TextEncoderPeft is not null) TextEncoder.train(training);
    }

    private static void Freeze(nn.Module model)
    {
        foreach (var p in model.parameters()) p.requires_grad = false;
        model.eval();
    }

    public void Dispose() => Pipeline.Dispose();
}
