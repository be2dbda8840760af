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
/// The models of a DreamBooth run, loaded from a diffusers pipeline folder (SD 1.x/2.x or SDXL), with the adapters
/// applied: the UNet (and the text encoder with --train_text_encoder; SDXL: both text encoders, with the same config,
/// as diffusers' <c>train_dreambooth_lora_sdxl.py</c> does) carry trainable adapters, everything else is frozen. The
/// pipeline around them samples class and validation images with the adapters as they are.
/// </summary>
public sealed class TrainingModels : IDisposable
{
    private TrainingModels(DiffusionPipeline pipeline, PeftModel unetPeft, PeftModel? textEncoderPeft, PeftModel? textEncoder2Peft, ScalarType weightDType)
    {
        Pipeline = pipeline;
        NoiseScheduler = new DDPMScheduler(pipeline.SchedulerConfig);
        UnetPeft = unetPeft;
        TextEncoderPeft = textEncoderPeft;
        TextEncoder2Peft = textEncoder2Peft;
        WeightDType = weightDType;
    }

    /// <summary>The pipeline (a <see cref="StableDiffusionPipeline"/> or a <see cref="StableDiffusionXLPipeline"/>) that samples class and validation images.</summary>
    public DiffusionPipeline Pipeline { get; }
    public ClipTokenizer Tokenizer => Pipeline.Tokenizer;
    public CLIPTextModel TextEncoder => Pipeline.TextEncoder;
    /// <summary>SDXL's second text encoder; null for SD 1.x/2.x.</summary>
    public CLIPTextModelWithProjection? TextEncoder2 => (Pipeline as StableDiffusionXLPipeline)?.TextEncoder2;
    /// <summary>SDXL's second tokenizer; null for SD 1.x/2.x.</summary>
    public ClipTokenizer? Tokenizer2 => (Pipeline as StableDiffusionXLPipeline)?.Tokenizer2;
    /// <summary>True for an SDXL pipeline.</summary>
    public bool IsXL => Pipeline is StableDiffusionXLPipeline;
    public AutoencoderKL Vae => Pipeline.Vae;
    public UNet2DConditionModel Unet => Pipeline.Unet;
    /// <summary>
    /// The training noise schedule: the DDPM scheduler of the pipeline's scheduler config (diffusers' training scripts'
    /// <c>DDPMScheduler.from_pretrained(..., subfolder="scheduler")</c>).
    /// </summary>
    public DDPMScheduler NoiseScheduler { get; }
    public PeftModel UnetPeft { get; }
    public PeftModel? TextEncoderPeft { get; }
    /// <summary>SDXL's text_encoder_2 with the text-encoder adapter, when the text encoders are trained.</summary>
    public PeftModel? TextEncoder2Peft { get; }

    /// <summary>
    /// The trained adapters by pipeline component name (<c>unet</c>, <c>text_encoder</c>, <c>text_encoder_2</c>): the
    /// folder names of outputs and checkpoints, and the component names adapter files use.
    /// </summary>
    public IReadOnlyList<(string Component, PeftModel Peft)> Adapters =>
    [
        ("unet", UnetPeft),
        .. TextEncoderPeft is null ? [] : new[] { ("text_encoder", TextEncoderPeft) },
        .. TextEncoder2Peft is null ? [] : new[] { ("text_encoder_2", TextEncoder2Peft) },
    ];
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
        if (options.PretrainedVae is { } vaeFolder && !Directory.Exists(vaeFolder))
            throw new DreamBoothOptionException("pretrained_vae_model_name_or_path", $"--pretrained_vae_model_name_or_path: folder '{vaeFolder}' does not exist.");
        var pipeline = DiffusionPipeline.FromPretrained(folder, ScalarType.Float32, device);
        if (options.PretrainedVae is { } separateVae) pipeline = WithVae(pipeline, separateVae, device);
        var textEncoder2 = (pipeline as StableDiffusionXLPipeline)?.TextEncoder2;
        PeftModel unetPeft;
        PeftModel? textEncoderPeft = null, textEncoder2Peft = null;
        try
        {
            foreach (var message in AdapterTargetCheck.Check(options.UnetAdapter, pipeline.Unet, "the UNet", "unet")) warning?.Invoke(message);
            var te2Config = options.TextEncoder2Adapter ?? options.TextEncoderAdapter;
            if (options.TextEncoder2Adapter is not null && textEncoder2 is null)
                throw new DreamBoothOptionException("pretrained_model_name_or_path", $"A text_encoder_2 adapter is set, but '{folder}' is not an SDXL pipeline (it has no text_encoder_2).");
            if (options.TextEncoderAdapter is { } te)
            {
                foreach (var message in AdapterTargetCheck.Check(te, pipeline.TextEncoder, "the text encoder", "te")) warning?.Invoke(message);
                if (textEncoder2 is { } te2)
                {
                    var hint = options.TextEncoder2Adapter is null
                        ? "one config serves both SDXL text encoders only when its targets are names; set TextEncoder2Adapter with targets from the class generated from text_encoder_2/config.json."
                        : null;
                    foreach (var message in AdapterTargetCheck.Check(te2Config!, te2, "text_encoder_2", "te", hint)) warning?.Invoke(message);
                }
            }
            Freeze(pipeline.Vae);
            Freeze(pipeline.TextEncoder);
            if (textEncoder2 is { } frozen2) Freeze(frozen2);
            Freeze(pipeline.Unet);
            unetPeft = PeftModel.Create(pipeline.Unet, PeftBaseModel.Describe(options.UnetAdapter, pipeline.Unet, folder));
            if (options.TextEncoderAdapter is { } teConfig)
            {
                textEncoderPeft = PeftModel.Create(pipeline.TextEncoder, PeftBaseModel.Describe(teConfig, pipeline.TextEncoder, folder));
                if (textEncoder2 is { } te2)
                    textEncoder2Peft = PeftModel.Create(te2, PeftBaseModel.Describe(te2Config!, te2, folder));
            }
        }
        catch
        {
            pipeline.Dispose();
            throw;
        }
        var weightDType = MixedPrecisionCaster.WeightDType(options.MixedPrecision) ?? ScalarType.Float32;
        if (weightDType != ScalarType.Float32)
        {
            // diffusers' SDXL script keeps a VAE whose config sets force_upcast in float32 (SDXL's VAE overflows in fp16).
            if (!(textEncoder2 is not null && pipeline.Vae.Config.ForceUpcast)) pipeline.Vae.to(weightDType);
            MixedPrecisionCaster.CastFrozenLeaves(pipeline.Unet, weightDType);
            MixedPrecisionCaster.CastFrozenLeaves(pipeline.TextEncoder, weightDType);
            if (textEncoder2 is { } te2) MixedPrecisionCaster.CastFrozenLeaves(te2, weightDType);
        }
        if (options.GradientCheckpointing) pipeline.Unet.GradientCheckpointing = true;
        pipeline.Unet.train();
        if (textEncoderPeft is not null) pipeline.TextEncoder.train();
        if (textEncoder2Peft is not null) textEncoder2!.train();
        return new TrainingModels(pipeline, unetPeft, textEncoderPeft, textEncoder2Peft, weightDType);
    }

    /// <summary>
    /// The trainable tensors of each trained component (<c>unet</c>, <c>text_encoder</c>, <c>text_encoder_2</c>), named
    /// <c>component.&lt;path&gt;</c>.
    /// </summary>
    public IReadOnlyList<(string Component, IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter)> Parameters)> TrainableParameters() =>
    [
        .. Adapters.Select(a => (a.Component, (IReadOnlyList<(string, TorchSharp.Modules.Parameter)>)
            [.. a.Peft.Model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => ($"{a.Component}.{p.name}", p.parameter))])),
    ];

    /// <summary>The training step over these models (the trainer's; app code may drive it in its own loop).</summary>
    public DiffusionTrainingStep TrainingStep(DiffusionObjective objective) => new(Vae, TextEncoder, Unet, NoiseScheduler, objective, TextEncoder2);

    /// <summary>Every adapter off until the returned scope is disposed: the models compute the base model.</summary>
    public IDisposable DisableAdapters() => new Scopes([.. Adapters.Select(a => a.Peft.DisableAdapter())]);

    private sealed class Scopes(IReadOnlyList<IDisposable> scopes) : IDisposable
    {
        public void Dispose()
        {
            foreach (var scope in scopes) scope.Dispose();
        }
    }

    /// <summary>Switches the trained models between training (dropouts active) and sampling.</summary>
    public void SetTraining(bool training)
    {
        foreach (var (_, peft) in Adapters) peft.Model.train(training);
    }

    /// <summary>The pipeline with its VAE replaced by the one in <paramref name="vaeFolder"/> (the pipeline's own is disposed).</summary>
    private static DiffusionPipeline WithVae(DiffusionPipeline pipeline, string vaeFolder, Device device)
    {
        AutoencoderKL vae;
        try
        {
            vae = AutoencoderKL.FromPretrained(vaeFolder, ScalarType.Float32, device);
        }
        catch
        {
            pipeline.Dispose();
            throw;
        }
        DiffusionPipeline replaced = pipeline is StableDiffusionXLPipeline xl
            ? new StableDiffusionXLPipeline(new StableDiffusionXLComponents(xl.Unet, vae, xl.TextEncoder, xl.Tokenizer, xl.TextEncoder2, xl.Tokenizer2, xl.SchedulerConfig)
            {
                ForceZerosForEmptyPrompt = xl.ForceZerosForEmptyPrompt,
            })
            : new StableDiffusionPipeline(new StableDiffusionComponents(pipeline.Unet, vae, pipeline.TextEncoder, pipeline.Tokenizer, pipeline.SchedulerConfig));
        pipeline.Vae.Dispose();
        pipeline.Scheduler.Dispose();
        return replaced;
    }

    private static void Freeze(nn.Module model)
    {
        foreach (var p in model.parameters()) p.requires_grad = false;
        model.eval();
    }

    public void Dispose()
    {
        Pipeline.Dispose();
        NoiseScheduler.Dispose();
    }
}
