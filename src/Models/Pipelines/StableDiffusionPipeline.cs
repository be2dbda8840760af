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
/// Text to image with Stable Diffusion 1.x/2.x and SDXL, as diffusers' <c>StableDiffusionPipeline</c> and
/// <c>StableDiffusionXLPipeline</c>: prompt encoding (clip skip, negative prompts), DDIM sampling with classifier-free
/// guidance, VAE decoding. Sampling always uses a <see cref="DDIMScheduler"/> built from the folder's scheduler config
/// (diffusers' <c>DDIMScheduler.from_config</c>), whichever scheduler the folder names; <see cref="NoiseScheduler"/> is the
/// <see cref="DDPMScheduler"/> of the same config, for training.
/// </summary>
public sealed class StableDiffusionPipeline : IDisposable
{
    private readonly bool _forceZerosForEmptyPrompt;

    /// <summary>
    /// Builds a pipeline from models in memory and takes ownership of them (<see cref="Dispose"/> disposes them).
    /// The models must fit together: UNet in_channels = VAE latent_channels, UNet cross_attention_dim = the text
    /// encoders' hidden sizes (SDXL: their sum), and SDXL's added-embedding width.
    /// </summary>
    /// <exception cref="ArgumentException">The components do not fit together; the message names the configs' keys and values.</exception>
    public StableDiffusionPipeline(StableDiffusionComponents components)
    {
        ArgumentNullException.ThrowIfNull(components);
        CheckCompatible(components);
        Unet = components.Unet;
        Vae = components.Vae;
        TextEncoder = components.TextEncoder;
        Tokenizer = components.Tokenizer;
        TextEncoder2 = components.TextEncoder2;
        Tokenizer2 = components.Tokenizer2;
        SchedulerConfig = components.SchedulerConfig;
        _forceZerosForEmptyPrompt = components.ForceZerosForEmptyPrompt;
        Scheduler = new DDIMScheduler(SchedulerConfig);
        NoiseScheduler = new DDPMScheduler(SchedulerConfig);
        VaeScaleFactor = 1 << (Vae.Config.BlockOutChannels.Count - 1);
        var unetParameter = Unet.parameters().First();
        Device = unetParameter.device;
        DType = unetParameter.dtype;
    }

    /// <summary>SDXL's <c>force_zeros_for_empty_prompt</c> (model_index.json): zeros as the unconditional embeddings when no negative prompt is given.</summary>
    public bool ForceZerosForEmptyPrompt => _forceZerosForEmptyPrompt;

    /// <summary>True for SDXL (two text encoders, pooled embedding and size micro-conditioning).</summary>
    public bool IsXL => TextEncoder2 is not null;

    public UNet2DConditionModel Unet { get; }

    public AutoencoderKL Vae { get; }

    /// <summary>The CLIP text encoder (SDXL: the first one, CLIP ViT-L).</summary>
    public CLIPTextModel TextEncoder { get; }

    /// <summary>SDXL's second text encoder (OpenCLIP ViT-bigG), null for SD 1.x/2.x.</summary>
    public CLIPTextModelWithProjection? TextEncoder2 { get; }

    public ClipTokenizer Tokenizer { get; }

    public ClipTokenizer? Tokenizer2 { get; }

    /// <summary>The scheduler config both schedulers were built from.</summary>
    public SchedulerConfig SchedulerConfig { get; }

    /// <summary>The sampling scheduler.</summary>
    public DDIMScheduler Scheduler { get; }

    /// <summary>The training noise scheduler (<c>DDPMScheduler.from_pretrained(..., subfolder="scheduler")</c>).</summary>
    public DDPMScheduler NoiseScheduler { get; }

    /// <summary>2^(number of VAE blocks − 1): image pixels per latent pixel (8 for Stable Diffusion).</summary>
    public int VaeScaleFactor { get; }

    /// <summary>The UNet's device: latents and prompt embeddings live there.</summary>
    public Device Device { get; }

    /// <summary>The UNet's dtype, used for the latents.</summary>
    public ScalarType DType { get; }

    /// <summary>
    /// Loads a diffusers pipeline folder: <c>model_index.json</c> (a StableDiffusionPipeline or StableDiffusionXLPipeline),
    /// then <c>scheduler/</c>, <c>tokenizer/</c>, <c>text_encoder/</c>, <c>unet/</c>, <c>vae/</c> (and SDXL's
    /// <c>tokenizer_2/</c>, <c>text_encoder_2/</c>), all models in <paramref name="dtype"/> (default float32) on
    /// <paramref name="device"/> (default CPU), in eval mode. Like diffusers, an SDXL VAE whose config sets
    /// <c>force_upcast</c> decodes in float32, so it is kept in float32 when <paramref name="dtype"/> is float16.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder or a component folder is missing; the message names it.</exception>
    /// <exception cref="FileNotFoundException">model_index.json or a file of a component is missing; the message names it.</exception>
    /// <exception cref="InvalidDataException">model_index.json or a config is malformed or unsupported; the message names the file and key.</exception>
    public static StableDiffusionPipeline FromPretrained(string folder, ScalarType? dtype = null, Device? device = null) =>
        FromPretrained(folder, dtype, device, storedDTypes: false);

    /// <summary>
    /// Each component in the dtype its checkpoint stores (transformers' <c>torch_dtype="auto"</c>): an fp16
    /// text_encoder and an fp32 unet stay so; an SDXL VAE that asks for <c>force_upcast</c> is loaded in float32.
    /// </summary>
    public static StableDiffusionPipeline FromPretrainedInStoredDTypes(string folder, Device? device = null) =>
        FromPretrained(folder, null, device, storedDTypes: true);

    private static StableDiffusionPipeline FromPretrained(string folder, ScalarType? dtype, Device? device, bool storedDTypes)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Pipeline folder '{folder}' does not exist.");
        var index = PipelineIndex.FromFile(Path.Combine(folder, "model_index.json"));
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
        T Load<T>(Func<T> load) where T : IDisposable
        {
            var model = load();
            loaded.Add(model);
            return model;
        }
        try
        {
            var textEncoder = Load(() => CLIPTextModel.FromPretrained(Folder("text_encoder"), DTypeOf("text_encoder", "model"), device));
            var textEncoder2 = index.IsXL ? Load(() => CLIPTextModelWithProjection.FromPretrained(Folder("text_encoder_2"), DTypeOf("text_encoder_2", "model"), device)) : null;
            var unet = Load(() => UNet2DConditionModel.FromPretrained(Folder("unet"), DTypeOf("unet", "diffusion_pytorch_model"), device));
            var vae = Load(() => AutoencoderKL.FromPretrained(Folder("vae"), vaeDType, device));
            return new StableDiffusionPipeline(new StableDiffusionComponents(unet, vae, textEncoder, tokenizer, schedulerConfig)
            {
                TextEncoder2 = textEncoder2,
                Tokenizer2 = tokenizer2,
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
    /// unconditional rows when <paramref name="classifierFreeGuidance"/> is set, from <paramref name="negativePrompts"/> or
    /// the empty prompt (SDXL with force_zeros_for_empty_prompt and no negative prompts: zeros).
    /// SD: the last hidden state, or with <paramref name="clipSkip"/> the hidden state that many layers earlier through
    /// final_layer_norm. SDXL: the penultimate hidden states (without final_layer_norm) of both encoders concatenated, and
    /// text_encoder_2's projected pooled output. As in diffusers, clip skip applies to the prompts, not the negative prompts.
    /// </summary>
    public PromptEmbeddings EncodePrompt(IReadOnlyList<string> prompts, IReadOnlyList<string>? negativePrompts = null, bool classifierFreeGuidance = true, int? clipSkip = null)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        if (prompts.Count == 0) throw new ArgumentException("At least one prompt is needed.", nameof(prompts));
        if (negativePrompts is not null && negativePrompts.Count != prompts.Count)
            throw new ArgumentException($"{negativePrompts.Count} negative prompts for {prompts.Count} prompts; give one per prompt.", nameof(negativePrompts));
        CheckClipSkip(clipSkip);

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        if (!IsXL)
        {
            var embeds = SdEmbeds(prompts, clipSkip);
            var negative = classifierFreeGuidance ? SdEmbeds(negativePrompts ?? Empty(prompts.Count), clipSkip: null) : null;
            return new PromptEmbeddings(embeds.MoveToOuterDisposeScope(), negative?.MoveToOuterDisposeScope());
        }

        var (xlEmbeds, pooled) = XlEmbeds(prompts, clipSkip);
        Tensor? negativeEmbeds = null, negativePooled = null;
        if (classifierFreeGuidance && negativePrompts is null && _forceZerosForEmptyPrompt)
        {
            negativeEmbeds = zeros_like(xlEmbeds);
            negativePooled = zeros_like(pooled);
        }
        else if (classifierFreeGuidance)
        {
            (negativeEmbeds, negativePooled) = XlEmbeds(negativePrompts ?? Empty(prompts.Count), clipSkip: null);
        }
        return new PromptEmbeddings(xlEmbeds.MoveToOuterDisposeScope(), negativeEmbeds?.MoveToOuterDisposeScope(),
            pooled.MoveToOuterDisposeScope(), negativePooled?.MoveToOuterDisposeScope());
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

    /// <summary>Disposes the models and schedulers.</summary>
    public void Dispose()
    {
        Unet.Dispose();
        Vae.Dispose();
        TextEncoder.Dispose();
        TextEncoder2?.Dispose();
        Scheduler.Dispose();
        NoiseScheduler.Dispose();
    }

    // diffusers: do_classifier_free_guidance = guidance_scale > 1.
    private static bool UsesGuidance(GenerationOptions options) => options.GuidanceScale > 1;

    private static string[] Empty(int count) => Enumerable.Repeat("", count).ToArray();

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
        Tensor? textEmbeds = null, timeIds = null;
        if (IsXL)
        {
            var pooled = embeddings.PooledPromptEmbeds!.to(DType, Device).repeat_interleave(perPrompt, dim: 0);
            textEmbeds = guidance ? cat([embeddings.NegativePooledPromptEmbeds!.to(DType, Device).repeat_interleave(perPrompt, dim: 0), pooled], 0) : pooled;
            timeIds = AddTimeIds(options, height, width).expand(context.shape[0], -1);
        }

        Scheduler.SetTimesteps(options.NumInferenceSteps);
        var latents = InitialLatents(batch, height, width, options);
        var timesteps = Scheduler.Timesteps.data<long>().ToArray();
        for (int i = 0; i < timesteps.Length; i++)
        {
            var next = DenoisingStep(latents, timesteps[i], context, textEmbeds, timeIds, guidance, options);
            latents.Dispose();
            latents = next;
            options.OnStep?.Invoke(i + 1, timesteps.Length);
        }
        return latents.MoveToOuterDisposeScope();
    }

    private Tensor DenoisingStep(Tensor latents, long t, Tensor context, Tensor? textEmbeds, Tensor? timeIds, bool guidance, GenerationOptions options)
    {
        using var scope = NewDisposeScope();
        var modelInput = Scheduler.ScaleModelInput(guidance ? cat([latents, latents], 0) : latents, t);
        var noisePred = Unet.call(new UNet2DConditionInput(modelInput, tensor(t, ScalarType.Int64, Device), context)
        {
            TextEmbeds = textEmbeds,
            TimeIds = timeIds,
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

    /// <summary>SDXL's <c>add_time_ids</c>: original size, crop top-left, target size, [1, 6].</summary>
    private Tensor AddTimeIds(GenerationOptions options, int height, int width) =>
        SdxlConditioning.AddTimeIds(options.OriginalSize ?? (height, width), options.CropsCoordsTopLeft, options.TargetSize ?? (height, width), DType, Device);

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

    private static Tensor TokenIds(ClipTokenizer tokenizer, IReadOnlyList<string> prompts, Device device)
    {
        var ids = prompts.SelectMany(p => tokenizer.EncodeForModel(p).Ids.Select(id => (long)id)).ToArray();
        return tensor(ids, [prompts.Count, ClipTokenizer.ModelMaxLength], dtype: ScalarType.Int64, device: device);
    }

    private Tensor SdEmbeds(IReadOnlyList<string> prompts, int? clipSkip)
    {
        var output = TextEncoder.call(TokenIds(Tokenizer, prompts, DeviceOf(TextEncoder)));
        return clipSkip is { } skip
            ? TextEncoder.TextModel.FinalLayerNorm.call(output.HiddenStates[^(skip + 1)])
            : output.LastHiddenState;
    }

    // SDXL always takes hidden_states[-2] ("2" because SDXL indexes from the penultimate layer), without final_layer_norm.
    private (Tensor Embeds, Tensor Pooled) XlEmbeds(IReadOnlyList<string> prompts, int? clipSkip) =>
        SdxlConditioning.EncodePrompt(TextEncoder, TextEncoder2!, TokenIds(Tokenizer, prompts, DeviceOf(TextEncoder)),
            TokenIds(Tokenizer2!, prompts, DeviceOf(TextEncoder2!)), fromEnd: (clipSkip ?? 0) + 2);

    private static Device DeviceOf(nn.Module module) => module.parameters().First().device;

    private void CheckClipSkip(int? clipSkip)
    {
        if (clipSkip is not { } skip) return;
        int layers = IsXL ? Math.Min(TextEncoder.Config.NumHiddenLayers, TextEncoder2!.Config.NumHiddenLayers) - 1 : TextEncoder.Config.NumHiddenLayers;
        if (skip < 0 || skip > layers)
            throw new ArgumentOutOfRangeException(nameof(clipSkip), skip, $"ClipSkip must be between 0 and {layers} for this text encoder ({TextEncoder.Config.NumHiddenLayers} layers).");
    }

    private void CheckEmbeddings(PromptEmbeddings embeddings, bool guidance)
    {
        var embeds = embeddings.PromptEmbeds;
        int crossAttentionDim = Unet.Config.CrossAttentionDim.Values[0];
        if (embeds.dim() != 3 || embeds.shape[2] != crossAttentionDim)
            throw new ArgumentException($"PromptEmbeds must be [batch, tokens, {crossAttentionDim}] (the UNet's cross_attention_dim), got [{string.Join(", ", embeds.shape)}].", nameof(embeddings));
        if (guidance && embeddings.NegativePromptEmbeds is null)
            throw new ArgumentException("Classifier-free guidance (GuidanceScale > 1) needs NegativePromptEmbeds: encode with classifierFreeGuidance: true.", nameof(embeddings));
        if (guidance && !embeddings.NegativePromptEmbeds!.shape.SequenceEqual(embeds.shape))
            throw new ArgumentException($"NegativePromptEmbeds has shape [{string.Join(", ", embeddings.NegativePromptEmbeds.shape)}] but PromptEmbeds has [{string.Join(", ", embeds.shape)}].", nameof(embeddings));
        if (!IsXL) return;
        if (embeddings.PooledPromptEmbeds is null)
            throw new ArgumentException("An SDXL pipeline needs PooledPromptEmbeds.", nameof(embeddings));
        if (guidance && embeddings.NegativePooledPromptEmbeds is null)
            throw new ArgumentException("Classifier-free guidance with SDXL needs NegativePooledPromptEmbeds.", nameof(embeddings));
    }

    private static void CheckCompatible(StableDiffusionComponents c)
    {
        var unet = c.Unet.Config;
        if (unet.InChannels != c.Vae.Config.LatentChannels)
            throw new ArgumentException($"unet in_channels {unet.InChannels} does not match vae latent_channels {c.Vae.Config.LatentChannels}.", nameof(c));
        if (c.TextEncoder2 is null != c.Tokenizer2 is null)
            throw new ArgumentException("SDXL needs both TextEncoder2 and Tokenizer2 (or neither, for SD 1.x/2.x).", nameof(c));
        if (unet.CrossAttentionDim.IsList)
            throw new ArgumentException($"unet cross_attention_dim {unet.CrossAttentionDim} is a list; a text-to-image pipeline needs one width.", nameof(c));

        var encoders = c.TextEncoder2 is null ? [c.TextEncoder.Config] : new[] { c.TextEncoder.Config, c.TextEncoder2.Config };
        foreach (var (config, name) in encoders.Zip(new[] { "text_encoder", "text_encoder_2" }))
        {
            if (config.MaxPositionEmbeddings < ClipTokenizer.ModelMaxLength)
                throw new ArgumentException($"{name} max_position_embeddings {config.MaxPositionEmbeddings} is shorter than the {ClipTokenizer.ModelMaxLength} tokens of a prompt.", nameof(c));
        }
        int textWidth = encoders.Sum(e => e.HiddenSize);
        string textSource = c.TextEncoder2 is null ? "text_encoder hidden_size" : "text_encoder + text_encoder_2 hidden_size";
        if (unet.CrossAttentionDim.ScalarValue != textWidth)
            throw new ArgumentException($"unet cross_attention_dim {unet.CrossAttentionDim} does not match the {textSource} {textWidth}.", nameof(c));

        if (c.TextEncoder2 is null)
        {
            if (unet.AdditionEmbedType is not null)
                throw new ArgumentException($"unet addition_embed_type '{unet.AdditionEmbedType}' needs an SDXL pipeline (text_encoder_2, tokenizer_2).", nameof(c));
            return;
        }
        if (unet.AdditionEmbedType != "text_time")
            throw new ArgumentException($"An SDXL pipeline needs unet addition_embed_type 'text_time', found '{unet.AdditionEmbedType ?? "null"}'.", nameof(c));
        // diffusers' _get_add_time_ids check: 6 time ids of addition_time_embed_dim each, plus the pooled projection.
        int passed = (unet.AdditionTimeEmbedDim ?? 0) * 6 + c.TextEncoder2.Config.ProjectionDim;
        if (unet.ProjectionClassEmbeddingsInputDim != passed)
            throw new ArgumentException(
                $"unet projection_class_embeddings_input_dim {unet.ProjectionClassEmbeddingsInputDim?.ToString() ?? "null"} does not match 6 × addition_time_embed_dim {unet.AdditionTimeEmbedDim?.ToString() ?? "null"} + text_encoder_2 projection_dim {c.TextEncoder2.Config.ProjectionDim} = {passed}.",
                nameof(c));
    }
}
