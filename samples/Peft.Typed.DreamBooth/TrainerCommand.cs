using System.Globalization;
using System.CommandLine;
using Peft.Typed.Models.Adapters.Formats;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Training;
using Peft.Typed.Training.Optimization;

namespace Peft.Typed.DreamBooth;

/// <summary>
/// The command line: the Python scripts' option names (snake_case, so existing command lines carry over) bound to
/// <see cref="DreamBoothOptions"/>. Defaults shown by --help are the scripts' defaults; when no
/// --pretrained_model_name_or_path is given the embedded tiny model runs with <see cref="EmbeddedDefault"/> values
/// for the options left unset.
/// </summary>
internal sealed class TrainerCommand
{
    private static readonly DreamBoothOptions ScriptDefaults = new() { PretrainedModel = "", InstanceDataDir = "", InstancePrompt = "" };
    private static readonly AdapterArguments AdapterDefaults = new();

    private readonly List<Action<ParseResult, Builder>> _binders = [];

    public TrainerCommand()
    {
        Root = new RootCommand(
            "DreamBooth fine-tuning of Stable Diffusion with PEFT adapters (LoRA, LoHa, LoKr).\n" +
            "With no --pretrained_model_name_or_path it trains the embedded tiny model on the bundled instance images " +
            $"({EmbeddedDefault.Describe()}).");

        Add<string?>("--pretrained_model_name_or_path", "Diffusers pipeline folder (model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/).", null, (b, v) => b.Model = v);
        Add<string?>("--pretrained_vae_model_name_or_path", "A VAE folder used instead of the pipeline's vae/ (e.g. an fp16-safe SDXL VAE).", null, (b, v) => b.Options = b.Options with { PretrainedVae = v });
        Add("--repeats", "How many times each instance image is repeated per epoch.", ScriptDefaults.Repeats, (b, v) => b.Options = b.Options with { Repeats = v });
        Add<int?>("--validation_epochs", "Run validation after every N-th epoch (0, N, 2N, …) instead of every --validation_steps steps.", null, (b, v) => b.Options = b.Options with { ValidationEpochs = v });
        Add<string?>("--model", "The embedded tiny model trained when --pretrained_model_name_or_path is not given: sd-tiny (default) or sdxl-tiny.", null, (b, v) => b.EmbeddedModel = v);
        Add<string?>("--instance_data_dir", "Folder of instance images.", null, (b, v) => b.InstanceDataDir = v);
        Add<string?>("--instance_prompt", "Prompt with the identifier of the instance, e.g. 'a photo of sks dog'.", null, (b, v) => b.InstancePrompt = v);
        Add<string?>("--caption_extension", "Extension of per-image caption files beside the images (kohya), e.g. .txt; default: .caption, then .txt. A caption replaces the prompt for its image; metadata.jsonl (file_name, text) is read too.", null, (b, v) => b.Options = b.Options with { CaptionExtension = v });
        Add("--caption_column", "The metadata.jsonl field that holds each image's caption.", ScriptDefaults.CaptionColumn, (b, v) => b.Options = b.Options with { CaptionColumn = v });
        Add<string?>("--class_data_dir", "Folder of class images; missing ones are generated.", null, (b, v) => b.Options = b.Options with { ClassDataDir = v });
        Add<string?>("--class_prompt", "Prompt of the class, e.g. 'a photo of dog'.", null, (b, v) => b.Options = b.Options with { ClassPrompt = v });
        Flag("--with_prior_preservation", "Add the prior-preservation loss on class images.", (b, v) => b.Options = b.Options with { WithPriorPreservation = v });
        Add("--prior_loss_weight", "Weight of the prior-preservation loss.", ScriptDefaults.PriorLossWeight, (b, v) => b.Options = b.Options with { PriorLossWeight = v });
        Add("--num_class_images", "Class images wanted for prior preservation; missing ones are sampled with --class_prompt.", ScriptDefaults.NumClassImages, (b, v) => b.Options = b.Options with { NumClassImages = v });
        Add("--sample_batch_size", "Batch size for sampling class images.", ScriptDefaults.SampleBatchSize, (b, v) => b.Options = b.Options with { SampleBatchSize = v });
        Add("--inference_steps", "DDIM steps for class and validation images.", ScriptDefaults.InferenceSteps, (b, v) => b.Options = b.Options with { InferenceSteps = v });
        Add("--guidance_scale", "Classifier-free guidance scale for class and validation images.", ScriptDefaults.GuidanceScale, (b, v) => b.Options = b.Options with { GuidanceScale = v });
        Add<string?>("--validation_prompt", "Prompt for validation images.", null, (b, v) => b.Options = b.Options with { ValidationPrompt = v });
        Add("--num_validation_images", "Validation images per validation run.", ScriptDefaults.NumValidationImages, (b, v) => b.Options = b.Options with { NumValidationImages = v });
        Add("--validation_steps", "Run validation every N steps.", ScriptDefaults.ValidationSteps, (b, v) => b.Options = b.Options with { ValidationSteps = v });
        Add<string?>("--output_dir", "Output folder (default: output/dreambooth-<time> for the embedded model, else dreambooth-output).", null, (b, v) => b.OutputDir = v);
        Flag("--overwrite", "Replace a previous run in --output_dir.", (b, v) => b.Options = b.Options with { Overwrite = v });
        Add<int?>("--seed", "Seed for a reproducible run.", null, (b, v) => b.Options = b.Options with { Seed = v });
        Add("--resolution", "Training image size (shorter side resized, then cropped square).", ScriptDefaults.Resolution, (b, v) => b.Options = b.Options with { Resolution = v });
        Flag("--center_crop", "Centre crop instead of a random crop.", (b, v) => b.Options = b.Options with { CenterCrop = v });
        Flag("--random_flip", "Randomly flip images horizontally.", (b, v) => b.Options = b.Options with { RandomFlip = v });
        Flag("--train_text_encoder", "Train an adapter on the text encoder too (SDXL: on both text encoders, with the same --te_* settings).", (b, v) => b.TrainTextEncoder = v);
        Add("--train_batch_size", "Batch size.", ScriptDefaults.TrainBatchSize, (b, v) => b.Options = b.Options with { TrainBatchSize = v });
        Add("--num_train_epochs", "Epochs (ignored when --max_train_steps is set).", ScriptDefaults.NumTrainEpochs, (b, v) => b.Options = b.Options with { NumTrainEpochs = v });
        Add<int?>("--max_train_steps", "Total optimizer steps; overrides --num_train_epochs.", null, (b, v) => b.Options = b.Options with { MaxTrainSteps = v });
        Add("--checkpointing_steps", "Save a resumable checkpoint every N steps.", ScriptDefaults.CheckpointingSteps, (b, v) => b.Options = b.Options with { CheckpointingSteps = v });
        Add<int?>("--checkpoints_total_limit", "Keep at most this many checkpoints.", null, (b, v) => b.Options = b.Options with { CheckpointsTotalLimit = v });
        Add<string?>("--resume_from_checkpoint", "'latest' or a checkpoint folder to resume from.", null, (b, v) => b.Options = b.Options with { ResumeFromCheckpoint = v });
        Add("--gradient_accumulation_steps", "Micro-batches per optimizer step.", ScriptDefaults.GradientAccumulationSteps, (b, v) => b.Options = b.Options with { GradientAccumulationSteps = v });
        Flag("--gradient_checkpointing", "Recompute UNet activations in backward to save memory.", (b, v) => b.Options = b.Options with { GradientCheckpointing = v });
        Add("--learning_rate", "Learning rate after warm-up.", ScriptDefaults.LearningRate, (b, v) => b.Options = b.Options with { LearningRate = v });
        Flag("--scale_lr", "Multiply the learning rate by accumulation steps × batch size.", (b, v) => b.Options = b.Options with { ScaleLr = v });
        Add("--lr_scheduler", $"{string.Join(", ", Enum.GetValues<LearningRateScheduler>().Select(CommandLineNames.Of))}.", CommandLineNames.Of(ScriptDefaults.LrScheduler), (b, v) => b.Options = b.Options with { LrScheduler = CommandLineNames.Parse<LearningRateScheduler>("lr_scheduler", v) });
        Add("--lr_warmup_steps", "Warm-up steps of the schedule.", ScriptDefaults.LrWarmupSteps, (b, v) => b.Options = b.Options with { LrWarmupSteps = v });
        Add("--lr_num_cycles", "Hard restarts of cosine_with_restarts.", ScriptDefaults.LrNumCycles, (b, v) => b.Options = b.Options with { LrNumCycles = v });
        Add("--lr_power", "Power of the polynomial schedule.", ScriptDefaults.LrPower, (b, v) => b.Options = b.Options with { LrPower = v });
        Add("--adam_beta1", "Adam beta1.", ScriptDefaults.AdamBeta1, (b, v) => b.Options = b.Options with { AdamBeta1 = v });
        Add("--adam_beta2", "Adam beta2.", ScriptDefaults.AdamBeta2, (b, v) => b.Options = b.Options with { AdamBeta2 = v });
        Add("--adam_weight_decay", "AdamW weight decay.", ScriptDefaults.AdamWeightDecay, (b, v) => b.Options = b.Options with { AdamWeightDecay = v });
        Add<double?>("--text_encoder_lr", "Learning rate of the text encoders with --train_text_encoder (default: the UNet's; not scaled by --scale_lr; unused with Prodigy).", null, (b, v) => b.Options = b.Options with { TextEncoderLearningRate = v });
        Add<double?>("--adam_weight_decay_text_encoder", "Weight decay of the text encoders (default: --adam_weight_decay).", null, (b, v) => b.Options = b.Options with { TextEncoderWeightDecay = v });
        Add("--adam_epsilon", "Adam epsilon.", ScriptDefaults.AdamEpsilon, (b, v) => b.Options = b.Options with { AdamEpsilon = v });
        Add("--optimizer", $"{string.Join(" or ", Enum.GetValues<OptimizerKind>().Select(CommandLineNames.Of))}; Prodigy learns its step size (use --learning_rate 1.0) and takes the --adam_* options too.", CommandLineNames.Of(ScriptDefaults.Optimizer), (b, v) => b.Options = b.Options with { Optimizer = CommandLineNames.Parse<OptimizerKind>("optimizer", v) });
        Add<double?>("--prodigy_beta3", "Prodigy: decay of the step-size estimate (default sqrt(adam_beta2)).", null, (b, v) => b.Options = b.Options with { Prodigy = b.Options.Prodigy with { Beta3 = v } });
        Add("--prodigy_decouple", "Prodigy: AdamW-style weight decay (false: L2 term in the gradient).", ScriptDefaults.Prodigy.Decouple, (b, v) => b.Options = b.Options with { Prodigy = b.Options.Prodigy with { Decouple = v } });
        Flag("--prodigy_use_bias_correction", "Prodigy: Adam's bias correction.", (b, v) => b.Options = b.Options with { Prodigy = b.Options.Prodigy with { UseBiasCorrection = v } });
        Flag("--prodigy_safeguard_warmup", "Prodigy: leave the learning rate out of the D estimate's denominator (for warm-up).", (b, v) => b.Options = b.Options with { Prodigy = b.Options.Prodigy with { SafeguardWarmup = v } });
        Add("--prodigy_d0", "Prodigy: initial step-size estimate.", ScriptDefaults.Prodigy.D0, (b, v) => b.Options = b.Options with { Prodigy = b.Options.Prodigy with { D0 = v } });
        Add("--prodigy_d_coef", "Prodigy: multiplier of the step-size estimate.", ScriptDefaults.Prodigy.DCoef, (b, v) => b.Options = b.Options with { Prodigy = b.Options.Prodigy with { DCoef = v } });
        Add("--prodigy_growth_rate", "Prodigy: largest growth factor of the estimate per step (default unbounded).", ScriptDefaults.Prodigy.GrowthRate, (b, v) => b.Options = b.Options with { Prodigy = b.Options.Prodigy with { GrowthRate = v } });
        Add("--max_grad_norm", "Gradient clipping norm.", ScriptDefaults.MaxGradNorm, (b, v) => b.Options = b.Options with { MaxGradNorm = v });
        Add("--logging_dir", "TensorBoard folder (relative to --output_dir).", ScriptDefaults.LoggingDir, (b, v) => b.Options = b.Options with { LoggingDir = v });
        Add("--mixed_precision", "no, fp16 or bf16: frozen weights in half precision, adapters in fp32.", "no", (b, v) => b.Options = b.Options with { MixedPrecision = CommandLineNames.Parse<MixedPrecision>("mixed_precision", v) });
        Add("--device", "cpu, cuda or cuda:N (CUDA needs the -p:TorchBackend=cuda build).", ScriptDefaults.Device, (b, v) => b.Options = b.Options with { Device = v });
        Add("--num_threads", "libtorch's intra-op threads: auto (one per core that other processes leave free, re-chosen while training; seeded runs then repeat to rounding) or a fixed count.",
            "auto", (b, v) => b.Options = WithThreads(b.Options, v));
        Add("--noise_offset", "Noise offset (0 disables it).", ScriptDefaults.NoiseOffset, (b, v) => b.Options = b.Options with { NoiseOffset = v });
        Add<double?>("--snr_gamma", "Min-SNR loss weighting gamma (5 is recommended); off when unset.", null, (b, v) => b.Options = b.Options with { SnrGamma = v });
        Add<string?>("--prediction_type", "Override the scheduler's prediction type: epsilon or v_prediction.", null, (b, v) => b.Options = b.Options with { PredictionType = v is null ? null : CommandLineNames.Parse<PredictionType>("prediction_type", v) });
        Flag("--pre_compute_text_embeddings", "Encode the prompts once and free the text encoder (frozen text encoder only).", (b, v) => b.Options = b.Options with { PreComputeTextEmbeddings = v });
        Flag("--cache_latents", "Encode every image with the VAE once, before training.", (b, v) => b.Options = b.Options with { CacheLatents = v });
        Add("--export_format", "Adapter files to write: a comma-separated list of peft (always written), diffusers (pytorch_lora_weights.safetensors, alpha folded) and kohya (pytorch_lora_weights_kohya.safetensors for A1111/ComfyUI).",
            "peft", (b, v) => b.Options = b.Options with { ExportFormats = ExportFormats(v, b.Options.ExportFormats) });
        Flag("--output_kohya_format", "diffusers' name for adding kohya to --export_format.", (b, v) => b.Options = v ? b.Options with { ExportFormats = [.. b.Options.ExportFormats, AdapterFileFormat.Kohya] } : b.Options);
        Flag("--save_merged_unet", "Also write the UNet with the adapter merged (diffusers safetensors).", (b, v) => b.Options = b.Options with { SaveMergedUnet = v });
        Add("--adapter", "lora, loha or lokr.", "lora", (b, v) => b.Adapter = v);
        AddAdapterOptions("unet", (b, a) => b.Unet = a, b => b.Unet);
        AddAdapterOptions("te", (b, a) => b.TextEncoder = a, b => b.TextEncoder);
        AddRank();
    }

    public RootCommand Root { get; }

    /// <summary>Binds a parse result to options; throws <see cref="DreamBoothOptionException"/> for a bad value.</summary>
    public (DreamBoothOptions Options, bool Embedded) Bind(ParseResult result)
    {
        var builder = new Builder();
        foreach (var bind in _binders) bind(result, builder);
        bool embedded = builder.Model is null;
        if (!embedded && builder.EmbeddedModel is not null)
            throw new DreamBoothOptionException("model", "--model selects an embedded model; it cannot be combined with --pretrained_model_name_or_path.");
        var options = builder.Options with
        {
            UnetAdapter = builder.Unet.ToConfig(builder.Adapter, "unet", (SeedTargets.UnetMinimal, SeedTargets.UnetComprehensive), hasConvolutions: true),
            TextEncoderAdapter = builder.TrainTextEncoder
                ? builder.TextEncoder.ToConfig(builder.Adapter, "te", (SeedTargets.TextEncoderMinimal, SeedTargets.TextEncoderComprehensive), hasConvolutions: false)
                : null,
            PretrainedModel = builder.Model ?? EmbeddedDefault.ModelFolderOf(builder.EmbeddedModel),
            InstanceDataDir = builder.InstanceDataDir ?? (embedded ? EmbeddedDefault.InstanceImages : throw Missing("instance_data_dir")),
            InstancePrompt = builder.InstancePrompt ?? (embedded ? EmbeddedDefault.InstancePrompt : throw Missing("instance_prompt")),
            OutputDir = builder.OutputDir ?? (embedded ? EmbeddedDefault.NewOutputDir() : ScriptDefaults.OutputDir),
        };
        // diffusers' SDXL script trains at 1024 by default, the SD scripts at 512.
        if (!embedded && !WasGiven(result, "--resolution") && IsXL(options.PretrainedModel)) options = options with { Resolution = 1024 };
        return (embedded ? EmbeddedDefault.Apply(options, result, this) : options, embedded);
    }

    /// <summary>True when the user gave <paramref name="name"/> on the command line.</summary>
    public bool WasGiven(ParseResult result, string name) => result.GetResult(Root.Options.First(o => o.Name == name)) is { Implicit: false };

    private static bool IsXL(string folder)
    {
        var index = Path.Combine(folder, "model_index.json");
        return File.Exists(index) && PipelineIndex.FromFile(index).IsXL;
    }

    private static DreamBoothOptions WithThreads(DreamBoothOptions options, string value) =>
        value == "auto" ? options with { AdaptThreadsToLoad = true, NumThreads = null }
        : int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int threads) ? options with { AdaptThreadsToLoad = false, NumThreads = threads }
        : throw new DreamBoothOptionException("num_threads", $"--num_threads '{value}': must be auto or a number of threads.");

    private static DreamBoothOptionException Missing(string option) => new(option, $"--{option} is required with --pretrained_model_name_or_path.");

    private void Add<T>(string name, string description, T defaultValue, Action<Builder, T> apply, string? alias = null)
    {
        var option = new Option<T>(name) { Description = description };
        if (alias is not null) option.Aliases.Add(alias);
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        Root.Options.Add(option);
        _binders.Add((result, builder) => apply(builder, result.GetValue(option)!));
    }

    private void Flag(string name, string description, Action<Builder, bool> apply) => Add(name, description, false, apply);

    private void AddAdapterOptions(string prefix, Action<Builder, AdapterArguments> set, Func<Builder, AdapterArguments> get)
    {
        string model = prefix == "unet" ? "UNet" : "text-encoder";
        void Update(Builder b, Func<AdapterArguments, AdapterArguments> change) => set(b, change(get(b)));
        Add($"--{prefix}_r", $"Adapter rank of the {model}.", AdapterDefaults.Rank, (b, v) => Update(b, a => a with { Rank = v }));
        Add($"--{prefix}_alpha", $"Adapter alpha of the {model}.", AdapterDefaults.Alpha, (b, v) => Update(b, a => a with { Alpha = v }));
        Add($"--{prefix}_dropout", $"LoRA dropout of the {model}.", AdapterDefaults.Dropout, (b, v) => Update(b, a => a with { Dropout = v }));
        Add($"--{prefix}_bias", $"LoRA bias of the {model}: none, all or lora_only.", AdapterDefaults.Bias, (b, v) => Update(b, a => a with { Bias = v }));
        Add($"--{prefix}_rank_dropout", $"LoHa/LoKr rank dropout of the {model}.", AdapterDefaults.RankDropout, (b, v) => Update(b, a => a with { RankDropout = v }));
        Add($"--{prefix}_module_dropout", $"LoHa/LoKr module dropout of the {model}.", AdapterDefaults.ModuleDropout, (b, v) => Update(b, a => a with { ModuleDropout = v }));
        Flag($"--{prefix}_use_effective_conv2d", $"LoHa/LoKr effective conv2d for k×k convolutions of the {model}.", (b, v) => Update(b, a => a with { UseEffectiveConv2d = v }));
        Flag($"--{AdapterArguments.DoraOption(prefix)}", $"DoRA (weight-decomposed LoRA, PEFT's use_dora) for the {model}; needs --adapter lora.", (b, v) => Update(b, a => a with { UseDora = v }));
        Flag($"--{prefix}_decompose_both", $"LoKr: decompose both Kronecker factors of the {model}.", (b, v) => Update(b, a => a with { DecomposeBoth = v }));
        Add($"--{prefix}_decompose_factor", $"LoKr decomposition factor of the {model} (-1: automatic).", AdapterDefaults.DecomposeFactor, (b, v) => Update(b, a => a with { DecomposeFactor = v }));
        Add($"--{prefix}_target_modules",
            $"Target modules of the {model}, checked against the model at start-up: comprehensive or minimal (the seed scripts' lists), all-linear, " +
            "a comma-separated list of module names or name suffixes (to_q,to_v), or a regex matching whole module names (as PEFT reads a single string).",
            AdapterDefaults.TargetModules, (b, v) => Update(b, a => a with { TargetModules = v }), alias: $"--{prefix}_targets");
        Add<string?>($"--{prefix}_exclude_modules", $"Modules of the {model} never adapted, in the same forms (no presets).", null, (b, v) => Update(b, a => a with { ExcludeModules = v }));
    }

    /// <summary>
    /// diffusers' SDXL script's <c>--rank</c>: one LoRA rank for the UNet and the text encoders, with alpha = rank. Bound
    /// after the per-model options so that an explicit <c>--unet_r</c>, <c>--te_alpha</c>, … still wins.
    /// </summary>
    private void AddRank()
    {
        var option = new Option<int?>("--rank") { Description = "diffusers' SDXL-script rank: sets --unet_r, --unet_alpha, --te_r and --te_alpha (alpha = rank) where those are not given." };
        Root.Options.Add(option);
        _binders.Add((result, b) =>
        {
            if (result.GetValue(option) is not { } rank) return;
            AdapterArguments Apply(string prefix, AdapterArguments a) => a with
            {
                Rank = WasGiven(result, $"--{prefix}_r") ? a.Rank : rank,
                Alpha = WasGiven(result, $"--{prefix}_alpha") ? a.Alpha : rank,
            };
            b.Unet = Apply("unet", b.Unet);
            b.TextEncoder = Apply("te", b.TextEncoder);
        });
    }

    private static IReadOnlyList<AdapterFileFormat> ExportFormats(string value, IReadOnlyList<AdapterFileFormat> given) =>
        [.. given.Union(value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(f => CommandLineNames.Parse<AdapterFileFormat>("export_format", f)))];

    /// <summary>Values collected while binding.</summary>
    internal sealed class Builder
    {
        public DreamBoothOptions Options { get; set; } = ScriptDefaults;
        public string? Model { get; set; }
        public string? EmbeddedModel { get; set; }
        public string? InstanceDataDir { get; set; }
        public string? InstancePrompt { get; set; }
        public string? OutputDir { get; set; }
        public string Adapter { get; set; } = "lora";
        public bool TrainTextEncoder { get; set; }
        public AdapterArguments Unet { get; set; } = AdapterDefaults;
        public AdapterArguments TextEncoder { get; set; } = AdapterDefaults;
    }
}
