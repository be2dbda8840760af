using Peft.Typed.Architecture.Configs;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Loading;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Models.Tokenizers;
using Peft.Typed.Models.Unet;
using Peft.Typed.Models.Vae;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Pipelines;

/// <summary>
/// What <see cref="StableDiffusionPipeline"/> and <see cref="StableDiffusionXLPipeline"/> share, as diffusers' pipelines
/// share <c>__call__</c>'s body: DDIM sampling with classifier-free guidance over the encoded prompts, and VAE decoding.
/// Each subclass encodes prompts its own way and adds its own UNet conditioning. Sampling always uses a
/// <see cref="DDIMScheduler"/> built from the folder's scheduler config (diffusers' <c>DDIMScheduler.from_config</c>),
/// whichever scheduler the folder names.
/// </summary>
public abstract class DiffusionPipeline : IDisposable
{
    private protected DiffusionPipeline(UNet2DConditionModel unet, AutoencoderKL vae, CLIPTextModel textEncoder, ClipTokenizer tokenizer, SchedulerConfig schedulerConfig)
    {
        Unet = unet;
        Vae = vae;
        TextEncoder = textEncoder;
        Tokenizer = tokenizer;
        SchedulerConfig = schedulerConfig;
        Scheduler = new DDIMScheduler(SchedulerConfig);
        VaeScaleFactor = 1 << (Vae.Config.BlockOutChannels.Count - 1);
        var unetParameter = Unet.parameters().First();
        Device = unetParameter.device;
        DType = unetParameter.dtype;
    }

    public UNet2DConditionModel Unet { get; }

    public AutoencoderKL Vae { get; }

    /// <summary>The CLIP text encoder (SDXL: the first one, CLIP ViT-L).</summary>
    public CLIPTextModel TextEncoder { get; }

    public ClipTokenizer Tokenizer { get; }

    /// <summary>The folder's scheduler config: the sampling scheduler's, and the training noise schedule's.</summary>
    public SchedulerConfig SchedulerConfig { get; }

    /// <summary>The sampling scheduler.</summary>
    public DDIMScheduler Scheduler { get; }

    /// <summary>2^(number of VAE blocks − 1): image pixels per latent pixel (8 for Stable Diffusion).</summary>
    public int VaeScaleFactor { get; }

    /// <summary>The UNet's device: latents and prompt embeddings live there.</summary>
    public Device Device { get; }

    /// <summary>The UNet's dtype, used for the latents.</summary>
    public ScalarType DType { get; }

    /// <summary>The models by component folder name (diffusers' <c>components</c>, the torch modules only).</summary>
    public virtual IReadOnlyDictionary<string, nn.Module> Models => new Dictionary<string, nn.Module>(StringComparer.Ordinal)
    {
        ["unet"] = Unet,
        ["vae"] = Vae,
        ["text_encoder"] = TextEncoder,
    };

    /// <summary>
    /// diffusers' <c>DiffusionPipeline.from_pretrained</c>: reads <c>model_index.json</c> and loads the pipeline it names
    /// (a <see cref="StableDiffusionPipeline"/> or a <see cref="StableDiffusionXLPipeline"/>): <c>scheduler/</c>,
    /// <c>tokenizer/</c>, <c>text_encoder/</c>, <c>unet/</c>, <c>vae/</c> (and SDXL's <c>tokenizer_2/</c>,
    /// <c>text_encoder_2/</c>), all models in <paramref name="dtype"/> (default float32) on <paramref name="device"/>
    /// (default CPU), in eval mode. Like diffusers, an SDXL VAE whose config sets <c>force_upcast</c> decodes in float32,
    /// so it is kept in float32 when <paramref name="dtype"/> is float16.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder or a component folder is missing; the message names it.</exception>
    /// <exception cref="FileNotFoundException">model_index.json or a file of a component is missing; the message names it.</exception>
    /// <exception cref="InvalidDataException">model_index.json or a config is malformed or unsupported; the message names the file and key.</exception>
    public static DiffusionPipeline FromPretrained(string folder, ScalarType? dtype = null, Device? device = null) =>
        Load(folder, dtype, device, storedDTypes: false, expectedClass: null);

    /// <summary>
    /// Each component in the dtype its checkpoint stores (transformers' <c>torch_dtype="auto"</c>): an fp16
    /// text_encoder and an fp32 unet stay so; an SDXL VAE that asks for <c>force_upcast</c> is loaded in float32.
    /// </summary>
    public static DiffusionPipeline FromPretrainedInStoredDTypes(string folder, Device? device = null) =>
        Load(folder, null, device, storedDTypes: true, expectedClass: null);

    /// <summary>Loads a pipeline folder, which must be of <paramref name="expectedClass"/> when one is given.</summary>
    private protected static DiffusionPipeline Load(string folder, ScalarType? dtype, Device? device, bool storedDTypes, string? expectedClass)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Pipeline folder '{folder}' does not exist.");
        var index = PipelineIndex.FromFile(Path.Combine(folder, "model_index.json"));
        if (expectedClass is not null && index.ClassName != expectedClass)
            throw new InvalidDataException($"'{index.Path}': _class_name '{index.ClassName}' is not a {expectedClass}; load it with DiffusionPipeline.FromPretrained.");
        foreach (var name in index.RequiredComponents)
        {
            if (!Directory.Exists(Path.Combine(folder, name)))
                throw new DirectoryNotFoundException(
                    $"Pipeline folder '{folder}' has no {name}/ folder (model_index.json lists {name} as {index[name].ClassName}).");
        }
        string Folder(string name) => Path.Combine(folder, name);

        var schedulerConfig = SchedulerConfig.FromFile(Path.Combine(Folder("scheduler"), "scheduler_config.json"));
        var tokenizer = ClipTokenizer.FromFolder(Folder("tokenizer"));
        var tokenizer2 = index.IsXL ? ClipTokenizer.FromFolder(Folder("tokenizer_2")) : null;
        ScalarType? DTypeOf(string component, string weightsName) => storedDTypes ? PretrainedFolder.StoredDType(Folder(component), weightsName) : dtype;
        var vaeStored = DTypeOf("vae", "diffusion_pytorch_model");
        var vaeDType = index.IsXL && vaeStored == ScalarType.Float16 && PretrainedFolder.ReadConfig<AutoencoderKLConfig>(Folder("vae")).ForceUpcast
            ? ScalarType.Float32
            : vaeStored;

        var loaded = new List<IDisposable>();
        T LoadModel<T>(Func<T> load) where T : IDisposable
        {
            var model = load();
            loaded.Add(model);
            return model;
        }
        try
        {
            var textEncoder = LoadModel(() => CLIPTextModel.FromPretrained(Folder("text_encoder"), DTypeOf("text_encoder", "model"), device));
            var textEncoder2 = index.IsXL ? LoadModel(() => CLIPTextModelWithProjection.FromPretrained(Folder("text_encoder_2"), DTypeOf("text_encoder_2", "model"), device)) : null;
            var unet = LoadModel(() => UNet2DConditionModel.FromPretrained(Folder("unet"), DTypeOf("unet", "diffusion_pytorch_model"), device));
            var vae = LoadModel(() => AutoencoderKL.FromPretrained(Folder("vae"), vaeDType, device));
            return textEncoder2 is null
                ? new StableDiffusionPipeline(new StableDiffusionComponents(unet, vae, textEncoder, tokenizer, schedulerConfig))
                : new StableDiffusionXLPipeline(new StableDiffusionXLComponents(unet, vae, textEncoder, tokenizer, textEncoder2, tokenizer2!, schedulerConfig)
                {
                    ForceZerosForEmptyPrompt = index.ForceZerosForEmptyPrompt,
                });
        }
        catch
        {
            foreach (var model in loaded) model.Dispose();
            throw;
        }
    }

    /// <summary>Text to images: <see cref="EncodePrompt"/>, then <see cref="Generate(PromptEmbeddings, GenerationOptions?)"/>.</summary>
    /// <returns>[prompts · images per prompt, 3, height, width], float32 on the CPU, in [0, 1]; the images of each prompt are adjacent.</returns>
    public Tensor Generate(IReadOnlyList<string> prompts, GenerationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        options ??= new GenerationOptions();
        using var scope = NewDisposeScope();
        var negativePrompts = options.NegativePrompt is null ? null : Enumerable.Repeat(options.NegativePrompt, prompts.Count).ToArray();
        using var embeddings = EncodePrompt(prompts, negativePrompts, classifierFreeGuidance: UsesGuidance(options), options.ClipSkip);
        return DecodeLatents(Sample(embeddings, options)).MoveToOuterDisposeScope();
    }

    /// <summary>One prompt to images; see <see cref="Generate(IReadOnlyList{string}, GenerationOptions?)"/>.</summary>
    public Tensor Generate(string prompt, GenerationOptions? options = null) => Generate([prompt], options);

    /// <summary>
    /// Images from precomputed prompt embeddings (each row is one prompt, repeated <see cref="GenerationOptions.NumImagesPerPrompt"/>
    /// times). The prompt options (<see cref="GenerationOptions.NegativePrompt"/>, <see cref="GenerationOptions.ClipSkip"/>)
    /// must be unset: they belong to <see cref="EncodePrompt"/>.
    /// </summary>
    /// <returns>[rows · images per prompt, 3, height, width], float32 on the CPU, in [0, 1].</returns>
    public Tensor Generate(PromptEmbeddings embeddings, GenerationOptions? options = null)
    {
        using var scope = NewDisposeScope();
        return DecodeLatents(GenerateLatents(embeddings, options)).MoveToOuterDisposeScope();
    }

    /// <summary>The denoised latents (before the VAE scaling is undone), [rows · images per prompt, in_channels, height / f, width / f].</summary>
    public Tensor GenerateLatents(PromptEmbeddings embeddings, GenerationOptions? options = null)
    {
        options ??= new GenerationOptions();
        if (options.NegativePrompt is not null)
            throw new ArgumentException("NegativePrompt is used when the pipeline encodes the prompts; with precomputed embeddings pass NegativePromptEmbeds instead.", nameof(options));
        if (options.ClipSkip is not null)
            throw new ArgumentException("ClipSkip is used when the pipeline encodes the prompts; apply it in EncodePrompt instead.", nameof(options));
        return Sample(embeddings, options);
    }

    /// <summary>
    /// diffusers' <c>encode_prompt</c>: token ids (truncated and padded to 77) through the text encoder(s), plus the
    /// unconditional rows when <paramref name="classifierFreeGuidance"/> is set, from <paramref name="negativePrompts"/>
    /// or the empty prompt. As in diffusers, clip skip applies to the prompts, not the negative prompts; each pipeline
    /// documents which hidden state it takes.
    /// </summary>
    public PromptEmbeddings EncodePrompt(IReadOnlyList<string> prompts, IReadOnlyList<string>? negativePrompts = null, bool classifierFreeGuidance = true, int? clipSkip = null)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        if (prompts.Count == 0) throw new ArgumentException("At least one prompt is needed.", nameof(prompts));
        if (negativePrompts is not null && negativePrompts.Count != prompts.Count)
            throw new ArgumentException($"{negativePrompts.Count} negative prompts for {prompts.Count} prompts; give one per prompt.", nameof(negativePrompts));
        if (clipSkip is { } skip && (skip < 0 || skip > MaxClipSkip))
            throw new ArgumentOutOfRangeException(nameof(clipSkip), skip, $"ClipSkip must be between 0 and {MaxClipSkip} for this text encoder ({TextEncoder.Config.NumHiddenLayers} layers).");

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return EncodeCheckedPrompt(prompts, negativePrompts, classifierFreeGuidance, clipSkip);
    }

    /// <summary><c>vae.decode(latents / scaling_factor)</c>, then <c>(x / 2 + 0.5).clamp(0, 1)</c>: float32 images on the CPU.</summary>
    public Tensor DecodeLatents(Tensor latents)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var vaeParameter = Vae.parameters().First();
        var scaled = latents.to(vaeParameter.dtype, vaeParameter.device).Div(Vae.Config.ScalingFactor);
        var images = Vae.Decode(scaled).Div(2).Add(0.5).Clamp(0, 1);
        return images.to(ScalarType.Float32).cpu().MoveToOuterDisposeScope();
    }

    /// <summary>Disposes the models and the scheduler.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>The largest clip skip the text encoder(s) allow.</summary>
    private protected abstract int MaxClipSkip { get; }

    /// <summary>
    /// <see cref="EncodePrompt"/> after its argument checks, under no_grad in a dispose scope: the returned embeddings
    /// must be moved to the outer scope.
    /// </summary>
    private protected abstract PromptEmbeddings EncodeCheckedPrompt(IReadOnlyList<string> prompts, IReadOnlyList<string>? negativePrompts, bool classifierFreeGuidance, int? clipSkip);

    /// <summary>
    /// The UNet's added conditioning (SDXL's <c>text_embeds</c> and <c>time_ids</c>) for the sampling batch: the rows of
    /// <paramref name="embeddings"/> each repeated <paramref name="perPrompt"/> times, unconditional rows first with
    /// <paramref name="guidance"/>. Null for none.
    /// </summary>
    private protected abstract (Tensor TextEmbeds, Tensor TimeIds)? AddedConditions(PromptEmbeddings embeddings, bool guidance, int perPrompt, long rows, int height, int width, GenerationOptions options);

    /// <summary>Checks precomputed embeddings before sampling; the message names the property and the expected shape.</summary>
    private protected virtual void CheckEmbeddings(PromptEmbeddings embeddings, bool guidance)
    {
        var embeds = embeddings.PromptEmbeds;
        int crossAttentionDim = Unet.Config.CrossAttentionDim.Values[0];
        if (embeds.dim() != 3 || embeds.shape[2] != crossAttentionDim)
            throw new ArgumentException($"PromptEmbeds must be [batch, tokens, {crossAttentionDim}] (the UNet's cross_attention_dim), got [{string.Join(", ", embeds.shape)}].", nameof(embeddings));
        if (guidance && embeddings.NegativePromptEmbeds is null)
            throw new ArgumentException("Classifier-free guidance (GuidanceScale > 1) needs NegativePromptEmbeds: encode with classifierFreeGuidance: true.", nameof(embeddings));
        if (guidance && !embeddings.NegativePromptEmbeds!.shape.SequenceEqual(embeds.shape))
            throw new ArgumentException($"NegativePromptEmbeds has shape [{string.Join(", ", embeddings.NegativePromptEmbeds.shape)}] but PromptEmbeds has [{string.Join(", ", embeds.shape)}].", nameof(embeddings));
    }

    /// <summary>Disposes the models and the scheduler (<paramref name="disposing"/>: from <see cref="Dispose()"/>).</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        Unet.Dispose();
        Vae.Dispose();
        TextEncoder.Dispose();
        Scheduler.Dispose();
    }

    private protected static string[] Empty(int count) => Enumerable.Repeat("", count).ToArray();

    /// <summary>The token ids the pipeline feeds its text encoder for <paramref name="prompts"/>, [N, 77] (<see cref="ClipTokenizer.EncodeForModel"/>).</summary>
    public static Tensor TokenIds(ClipTokenizer tokenizer, IReadOnlyList<string> prompts, Device? device = null)
    {
        var ids = prompts.SelectMany(p => tokenizer.EncodeForModel(p).Ids.Select(id => (long)id)).ToArray();
        return tensor(ids, [prompts.Count, ClipTokenizer.ModelMaxLength], dtype: ScalarType.Int64, device: device);
    }

    private protected static Device DeviceOf(nn.Module module) => module.parameters().First().device;

    /// <summary>
    /// The checks both pipelines make on their components: latent channels, one cross-attention width equal to the text
    /// encoders' summed hidden sizes, and prompts that fit each encoder's positions.
    /// </summary>
    private protected static void CheckCompatible(UNet2DConditionModel unet, AutoencoderKL vae, IReadOnlyList<(ClipTextConfig Config, string Name)> encoders, string paramName)
    {
        var config = unet.Config;
        if (config.InChannels != vae.Config.LatentChannels)
            throw new ArgumentException($"unet in_channels {config.InChannels} does not match vae latent_channels {vae.Config.LatentChannels}.", paramName);
        if (config.CrossAttentionDim.IsList)
            throw new ArgumentException($"unet cross_attention_dim {config.CrossAttentionDim} is a list; a text-to-image pipeline needs one width.", paramName);
        foreach (var (encoder, name) in encoders)
        {
            if (encoder.MaxPositionEmbeddings < ClipTokenizer.ModelMaxLength)
                throw new ArgumentException($"{name} max_position_embeddings {encoder.MaxPositionEmbeddings} is shorter than the {ClipTokenizer.ModelMaxLength} tokens of a prompt.", paramName);
        }
        int textWidth = encoders.Sum(e => e.Config.HiddenSize);
        string textSource = string.Join(" + ", encoders.Select(e => e.Name)) + " hidden_size";
        if (config.CrossAttentionDim.ScalarValue != textWidth)
            throw new ArgumentException($"unet cross_attention_dim {config.CrossAttentionDim} does not match the {textSource} {textWidth}.", paramName);
    }

    // diffusers: do_classifier_free_guidance = guidance_scale > 1.
    private static bool UsesGuidance(GenerationOptions options) => options.GuidanceScale > 1;

    /// <summary>The DDIM loop of <c>__call__</c>: prepare latents, then one UNet call (on [uncond, cond] with guidance) and one scheduler step per timestep.</summary>
    private Tensor Sample(PromptEmbeddings embeddings, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        var (height, width) = ImageSize(options);
        if (options.NumImagesPerPrompt < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.NumImagesPerPrompt, "NumImagesPerPrompt must be at least 1.");
        bool guidance = UsesGuidance(options);
        CheckEmbeddings(embeddings, guidance);

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        int perPrompt = options.NumImagesPerPrompt;
        var conditional = embeddings.PromptEmbeds.to(DType, Device).repeat_interleave(perPrompt, dim: 0);
        long batch = conditional.shape[0];
        var context = guidance
            ? cat([embeddings.NegativePromptEmbeds!.to(DType, Device).repeat_interleave(perPrompt, dim: 0), conditional], 0)
            : conditional;
        var added = AddedConditions(embeddings, guidance, perPrompt, context.shape[0], height, width, options);

        Scheduler.SetTimesteps(options.NumInferenceSteps);
        var latents = InitialLatents(batch, height, width, options);
        var timesteps = Scheduler.Timesteps.data<long>().ToArray();
        for (int i = 0; i < timesteps.Length; i++)
        {
            var next = DenoisingStep(latents, timesteps[i], context, added, guidance, options);
            latents.Dispose();
            latents = next;
            options.OnStep?.Invoke(i + 1, timesteps.Length);
        }
        return latents.MoveToOuterDisposeScope();
    }

    private Tensor DenoisingStep(Tensor latents, long t, Tensor context, (Tensor TextEmbeds, Tensor TimeIds)? added, bool guidance, GenerationOptions options)
    {
        using var scope = NewDisposeScope();
        var modelInput = Scheduler.ScaleModelInput(guidance ? cat([latents, latents], 0) : latents, t);
        var noisePred = Unet.call(new UNet2DConditionInput(modelInput, tensor(t, ScalarType.Int64, Device), context)
        {
            TextEmbeds = added?.TextEmbeds,
            TimeIds = added?.TimeIds,
        });
        if (guidance)
        {
            var chunks = noisePred.chunk(2, 0);
            noisePred = chunks[0].Add((chunks[1] - chunks[0]).Mul(options.GuidanceScale));
        }
        var step = Scheduler.Step(noisePred, t, latents, eta: options.Eta, generator: options.Generator);
        return step.PrevSample.MoveToOuterDisposeScope();
    }

    /// <summary><c>prepare_latents</c>: N(0, 1) noise (drawn on the CPU when a generator is given) times init_noise_sigma, or the given latents.</summary>
    private Tensor InitialLatents(long batch, int height, int width, GenerationOptions options)
    {
        long[] shape = [batch, Unet.Config.InChannels, height / VaeScaleFactor, width / VaeScaleFactor];
        Tensor noise;
        if (options.Latents is { } given)
        {
            if (!given.shape.SequenceEqual(shape))
                throw new ArgumentException($"Latents must have shape [{string.Join(", ", shape)}], got [{string.Join(", ", given.shape)}].", nameof(options));
            noise = given.to(DType, Device);
        }
        else
        {
            noise = options.Generator is null
                ? randn(shape, dtype: DType, device: Device)
                : randn(shape, dtype: DType, generator: options.Generator).to(Device);
        }
        return noise.Mul(Scheduler.InitNoiseSigma);
    }

    private (int Height, int Width) ImageSize(GenerationOptions options)
    {
        var sampleSize = Unet.Config.SampleSize?.Values;
        int? defaultHeight = sampleSize is null ? null : sampleSize[0] * VaeScaleFactor;
        int? defaultWidth = sampleSize is null ? null : sampleSize[^1] * VaeScaleFactor;
        int height = options.Height ?? defaultHeight ?? throw new ArgumentException("Height is required: the UNet config has no sample_size.", nameof(options));
        int width = options.Width ?? defaultWidth ?? throw new ArgumentException("Width is required: the UNet config has no sample_size.", nameof(options));
        foreach (var (name, value) in new[] { ("Height", height), ("Width", width) })
        {
            if (value <= 0 || value % VaeScaleFactor != 0)
                throw new ArgumentException($"{name} {value} must be a positive multiple of {VaeScaleFactor} (the VAE's downscaling factor).", nameof(options));
        }
        return (height, width);
    }
}
