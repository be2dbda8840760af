using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Formats;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Training.Optimization;

namespace Peft.Typed.Training;

/// <summary>
/// Everything a DreamBooth run takes, mirroring the arguments of PEFT's and diffusers' DreamBooth scripts
/// (docs/training.md maps each Python option to its property here and to the trainer's command-line option).
/// Defaults are the scripts' defaults.
/// </summary>
public sealed record DreamBoothOptions
{
    /// <summary>A diffusers pipeline folder (model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/).</summary>
    public required string PretrainedModel { get; init; }
    /// <summary>
    /// A VAE folder (config.json + diffusion_pytorch_model.safetensors) used instead of the pipeline's vae/, e.g. an
    /// fp16-safe SDXL VAE (<c>--pretrained_vae_model_name_or_path</c>); null: the pipeline's.
    /// </summary>
    public string? PretrainedVae { get; init; }
    public required string InstanceDataDir { get; init; }
    public required string InstancePrompt { get; init; }
    /// <summary>
    /// The extension of per-image caption files (kohya's <c>--caption_extension</c>, with its dot), or null to look for
    /// <c>.caption</c>, then <c>.txt</c>. A caption replaces the instance or class prompt for its image; a folder's
    /// <c>metadata.jsonl</c> (<c>file_name</c>, <c>text</c>) is read too (<see cref="Data.ImageCaptions"/>).
    /// </summary>
    public string? CaptionExtension { get; init; }
    /// <summary>The <c>metadata.jsonl</c> field holding captions (<c>--caption_column</c>, as diffusers names the dataset column).</summary>
    public string CaptionColumn { get; init; } = Data.ImageCaptions.DefaultCaptionColumn;

    /// <summary>How many times each instance image is repeated in an epoch (<c>--repeats</c> of diffusers' SDXL script).</summary>
    public int Repeats { get; init; } = 1;
    public string? ClassDataDir { get; init; }
    public string? ClassPrompt { get; init; }
    public bool WithPriorPreservation { get; init; }
    public double PriorLossWeight { get; init; } = 1.0;
    public int NumClassImages { get; init; } = 100;
    public int SampleBatchSize { get; init; } = 4;
    /// <summary>DDIM steps used to generate missing class images and validation images.</summary>
    public int InferenceSteps { get; init; } = 25;
    public double GuidanceScale { get; init; } = 7.5;

    public int Resolution { get; init; } = 512;
    public bool CenterCrop { get; init; }
    public bool RandomFlip { get; init; }

    /// <summary>
    /// The adapter trained on the UNet: any PEFT config (<see cref="LoraConfig"/>, LoHa, LoKr), typically with typed
    /// targets (<c>Sd15Unet.Targets.ToQ | Sd15Unet.Targets.ToV</c>). Default: the PEFT script's LoRA, r = alpha = 8 on
    /// <see cref="SeedTargets.UnetComprehensive"/>. Its targets are checked against the loaded UNet before training.
    /// </summary>
    public AdapterConfig UnetAdapter { get; init; } = new LoraConfig { R = 8, LoraAlpha = 8, TargetModules = SeedTargets.UnetComprehensive };

    /// <summary>The adapter trained on the text encoder (<c>--train_text_encoder</c>), or null to keep it frozen.</summary>
    public AdapterConfig? TextEncoderAdapter { get; init; }

    /// <summary>
    /// SDXL: the adapter of <c>text_encoder_2</c>; null applies <see cref="TextEncoderAdapter"/> to both encoders, as
    /// diffusers' SDXL script does. Typed targets need it: those selected in the class generated from
    /// <c>text_encoder/config.json</c> belong to that encoder only, so <c>text_encoder_2</c> takes targets from its own class.
    /// </summary>
    public AdapterConfig? TextEncoder2Adapter { get; init; }

    /// <summary>True when <see cref="TextEncoderAdapter"/> is set.</summary>
    public bool TrainTextEncoder => TextEncoderAdapter is not null;

    public int TrainBatchSize { get; init; } = 4;
    public int NumTrainEpochs { get; init; } = 1;
    public int? MaxTrainSteps { get; init; }
    public int GradientAccumulationSteps { get; init; } = 1;
    public bool GradientCheckpointing { get; init; }

    public double LearningRate { get; init; } = 5e-6;
    public bool ScaleLr { get; init; }
    public LearningRateScheduler LrScheduler { get; init; } = LearningRateScheduler.Constant;
    public int LrWarmupSteps { get; init; } = 500;
    public int LrNumCycles { get; init; } = 1;
    public double LrPower { get; init; } = 1.0;
    public double AdamBeta1 { get; init; } = 0.9;
    public double AdamBeta2 { get; init; } = 0.999;
    public double AdamWeightDecay { get; init; } = 1e-2;
    public double AdamEpsilon { get; init; } = 1e-8;
    /// <summary>
    /// The text encoders' learning rate (<c>--text_encoder_lr</c>); null: the UNet's, as kohya does and as diffusers'
    /// SD script trains them. It follows the same schedule and is not scaled by <see cref="ScaleLr"/> (as in diffusers'
    /// SDXL script). Prodigy estimates one step size for all parameters, so it uses <see cref="LearningRate"/>.
    /// </summary>
    public double? TextEncoderLearningRate { get; init; }
    /// <summary>The text encoders' weight decay (<c>--adam_weight_decay_text_encoder</c>); null: <see cref="AdamWeightDecay"/>.</summary>
    public double? TextEncoderWeightDecay { get; init; }
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>
    /// <see cref="OptimizerKind.AdamW"/> or <see cref="OptimizerKind.Prodigy"/>; both take <see cref="AdamBeta1"/>,
    /// <see cref="AdamBeta2"/>, <see cref="AdamWeightDecay"/> and <see cref="AdamEpsilon"/> (as diffusers' scripts do).
    /// Prodigy learns its step size: give it a learning rate near 1.
    /// </summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;
    /// <summary>Prodigy's own settings (used with <see cref="OptimizerKind.Prodigy"/>); defaults are prodigyopt's.</summary>
    public ProdigyOptions Prodigy { get; init; } = new();

    public MixedPrecision MixedPrecision { get; init; } = MixedPrecision.No;
    /// <summary>"cpu" or "cuda" (optionally "cuda:N").</summary>
    public string Device { get; init; } = "cpu";
    public int? Seed { get; init; }
    /// <summary>
    /// libtorch's intra-op threads for the run (<c>torch.set_num_threads</c>, process-wide); null keeps libtorch's
    /// default, one per core, unless <see cref="AdaptThreadsToLoad"/>. See docs/perf.md for measurements on a quiet and
    /// a busy machine.
    /// </summary>
    public int? NumThreads { get; init; }
    /// <summary>
    /// Re-choose the thread count between steps from the cores other processes leave free
    /// (<see cref="Models.Runtime.LoadAdaptiveThreads"/>; the command line's default): faster beside a busy process,
    /// the same on an idle machine, but seeded runs then repeat to rounding only. Not with <see cref="NumThreads"/>.
    /// </summary>
    public bool AdaptThreadsToLoad { get; init; }

    /// <summary>Noise offset of diffusers' script (0 disables it).</summary>
    public double NoiseOffset { get; init; }
    /// <summary>Min-SNR loss weighting gamma (null disables it); diffusers recommends 5.</summary>
    public double? SnrGamma { get; init; }
    /// <summary>Overrides the scheduler's prediction type (null: the scheduler config's).</summary>
    public PredictionType? PredictionType { get; init; }
    /// <summary>Encode the prompts once up front and free the text encoder (only when it is not trained).</summary>
    public bool PreComputeTextEmbeddings { get; init; }
    /// <summary>Encode every image with the VAE once and keep the latent distributions.</summary>
    public bool CacheLatents { get; init; }

    public string OutputDir { get; init; } = "dreambooth-output";
    public bool Overwrite { get; init; }
    public int CheckpointingSteps { get; init; } = 500;
    public int? CheckpointsTotalLimit { get; init; }
    /// <summary>"latest" or a checkpoint folder.</summary>
    public string? ResumeFromCheckpoint { get; init; }
    public string? ValidationPrompt { get; init; }
    public int NumValidationImages { get; init; } = 4;
    public int ValidationSteps { get; init; } = 100;
    /// <summary>
    /// diffusers' SDXL script's <c>--validation_epochs</c>: validation images after every N-th epoch (epochs 0, N, 2N, …,
    /// counted from 0 as the script does) instead of every <see cref="ValidationSteps"/> steps; null: by steps.
    /// </summary>
    public int? ValidationEpochs { get; init; }
    /// <summary>TensorBoard folder, relative to <see cref="OutputDir"/> unless rooted.</summary>
    public string LoggingDir { get; init; } = "logs";
    /// <summary>
    /// The adapter files written besides the PEFT folders (which are always written: checkpoints and resume use them):
    /// <see cref="AdapterFileFormat.Diffusers"/> adds <c>pytorch_lora_weights.safetensors</c> (alpha folded into lora_B,
    /// as diffusers loads it at scale 1), <see cref="AdapterFileFormat.Kohya"/> adds
    /// <c>pytorch_lora_weights_kohya.safetensors</c> for A1111, ComfyUI and Forge (docs/interop.md).
    /// </summary>
    public IReadOnlyList<AdapterFileFormat> ExportFormats { get; init; } = [AdapterFileFormat.Peft];

    /// <summary>Also write the UNet with the adapter merged, as a diffusers safetensors folder.</summary>
    public bool SaveMergedUnet { get; init; }

    /// <summary>Checks every value; the message names the option as the trainer's command line spells it.</summary>
    public void Validate()
    {
        static void Require(bool ok, string option, object? value, string rule)
        {
            if (!ok) throw new DreamBoothOptionException(option, $"--{option} {value}: {rule}");
        }

        Require(!string.IsNullOrWhiteSpace(InstancePrompt), "instance_prompt", $"'{InstancePrompt}'", "must not be empty");
        Require(CaptionExtension is null || (CaptionExtension.Length > 1 && CaptionExtension[0] == '.'), "caption_extension", $"'{CaptionExtension}'", "must be a dot and a name, e.g. .txt");
        Require(!string.IsNullOrWhiteSpace(CaptionColumn), "caption_column", $"'{CaptionColumn}'", "must not be empty");
        Require(Resolution > 0 && Resolution % 8 == 0, "resolution", Resolution, "must be a positive multiple of 8");
        Require(TrainBatchSize > 0, "train_batch_size", TrainBatchSize, "must be > 0");
        Require(SampleBatchSize > 0, "sample_batch_size", SampleBatchSize, "must be > 0");
        Require(NumTrainEpochs > 0, "num_train_epochs", NumTrainEpochs, "must be > 0");
        Require(MaxTrainSteps is null or > 0, "max_train_steps", MaxTrainSteps, "must be > 0");
        Require(GradientAccumulationSteps > 0, "gradient_accumulation_steps", GradientAccumulationSteps, "must be > 0");
        Require(LearningRate > 0, "learning_rate", LearningRate, "must be > 0");
        Require(LrWarmupSteps >= 0, "lr_warmup_steps", LrWarmupSteps, "must be >= 0");
        Require(LrNumCycles > 0, "lr_num_cycles", LrNumCycles, "must be > 0");
        Require(AdamBeta1 is >= 0 and < 1, "adam_beta1", AdamBeta1, "must be in [0, 1)");
        Require(AdamBeta2 is >= 0 and < 1, "adam_beta2", AdamBeta2, "must be in [0, 1)");
        Require(AdamWeightDecay >= 0, "adam_weight_decay", AdamWeightDecay, "must be >= 0");
        Require(AdamEpsilon > 0, "adam_epsilon", AdamEpsilon, "must be > 0");
        Require(TextEncoderLearningRate is null or > 0, "text_encoder_lr", TextEncoderLearningRate, "must be > 0");
        Require(TextEncoderWeightDecay is null or >= 0, "adam_weight_decay_text_encoder", TextEncoderWeightDecay, "must be >= 0");
        Require(Prodigy.Beta3 is null or (>= 0 and < 1), "prodigy_beta3", Prodigy.Beta3, "must be in [0, 1)");
        Require(Prodigy.D0 > 0, "prodigy_d0", Prodigy.D0, "must be > 0");
        Require(Prodigy.DCoef > 0, "prodigy_d_coef", Prodigy.DCoef, "must be > 0");
        Require(Prodigy.GrowthRate >= 1, "prodigy_growth_rate", Prodigy.GrowthRate, "must be >= 1");
        Require(MaxGradNorm > 0, "max_grad_norm", MaxGradNorm, "must be > 0");
        Require(CheckpointingSteps > 0, "checkpointing_steps", CheckpointingSteps, "must be > 0");
        Require(CheckpointsTotalLimit is null or > 0, "checkpoints_total_limit", CheckpointsTotalLimit, "must be > 0");
        Require(NumValidationImages > 0, "num_validation_images", NumValidationImages, "must be > 0");
        Require(ValidationSteps > 0, "validation_steps", ValidationSteps, "must be > 0");
        Require(ValidationEpochs is null or > 0, "validation_epochs", ValidationEpochs, "must be > 0");
        Require(Repeats > 0, "repeats", Repeats, "must be > 0");
        Require(InferenceSteps > 0, "inference_steps", InferenceSteps, "must be > 0");
        Require(NoiseOffset >= 0, "noise_offset", NoiseOffset, "must be >= 0");
        Require(SnrGamma is null or > 0, "snr_gamma", SnrGamma, "must be > 0");
        Require(PriorLossWeight >= 0, "prior_loss_weight", PriorLossWeight, "must be >= 0");
        Require(NumThreads is null or > 0, "num_threads", NumThreads, "must be > 0");
        Require(!(AdaptThreadsToLoad && NumThreads is not null), "num_threads", NumThreads, "fixes the thread count: it cannot be combined with adapting it to the load");
        Require(Device == "cpu" || Device == "cuda" || Device.StartsWith("cuda:", StringComparison.Ordinal), "device", Device, "must be cpu, cuda or cuda:N");
        if (WithPriorPreservation)
        {
            Require(!string.IsNullOrWhiteSpace(ClassDataDir), "class_data_dir", "(missing)", "is required with --with_prior_preservation");
            Require(!string.IsNullOrWhiteSpace(ClassPrompt), "class_prompt", "(missing)", "is required with --with_prior_preservation");
            Require(NumClassImages > 0, "num_class_images", NumClassImages, "must be > 0");
        }
        Require(TextEncoder2Adapter is null || TrainTextEncoder, "train_text_encoder", false, "is needed for a text_encoder_2 adapter (TextEncoder2Adapter is set, TextEncoderAdapter is not)");
        Require(!(PreComputeTextEmbeddings && TrainTextEncoder), "pre_compute_text_embeddings", true, "cannot be combined with --train_text_encoder");
    }
}
