using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Models.Unet;
using Peft.Typed.Models.Vae;
using static TorchSharp.torch;

namespace Peft.Typed.Training;

/// <summary>
/// One step of the objective diffusers' DreamBooth scripts train, for app code that drives its own loop: images →
/// VAE latents → noise at a random timestep → UNet prediction → MSE against the noise (or the velocity), optionally
/// Min-SNR weighted, plus the prior-preservation term on the trailing class examples. <see cref="DreamBoothTrainer"/>
/// runs the same step. The caller owns the models, the optimizer and the dispose scope the tensors live in; the VAE
/// and frozen text encoder run without gradients, the UNet (and a text encoder with trainable adapters) with them.
/// </summary>
/// <example>
/// <code>
/// var step = new DiffusionTrainingStep(pipeline.Vae, pipeline.TextEncoder, pipeline.Unet, noiseScheduler);
/// using (var scope = torch.NewDisposeScope())
/// {
///     var loss = step.Loss(pixels, inputIds, generator).Loss;
///     loss.backward();
///     optimizer.Step(learningRate);
///     optimizer.ZeroGrad();
/// }
/// </code>
/// </example>
public sealed class DiffusionTrainingStep
{
    private readonly AutoencoderKL _vae;
    private readonly CLIPTextModel _textEncoder;
    private readonly UNet2DConditionModel _unet;
    private readonly DDPMScheduler _noiseScheduler;
    private readonly CLIPTextModelWithProjection? _textEncoder2;

    /// <param name="textEncoder2">SDXL's second text encoder (null for SD 1.x/2.x); with it the UNet takes <see cref="SdxlAddedConditions"/>.</param>
    public DiffusionTrainingStep(AutoencoderKL vae, CLIPTextModel textEncoder, UNet2DConditionModel unet, DDPMScheduler noiseScheduler, DiffusionObjective? objective = null,
        CLIPTextModelWithProjection? textEncoder2 = null)
    {
        _textEncoder2 = textEncoder2;
        _vae = vae ?? throw new ArgumentNullException(nameof(vae));
        _textEncoder = textEncoder ?? throw new ArgumentNullException(nameof(textEncoder));
        _unet = unet ?? throw new ArgumentNullException(nameof(unet));
        _noiseScheduler = noiseScheduler ?? throw new ArgumentNullException(nameof(noiseScheduler));
        Objective = objective ?? new DiffusionObjective();
    }

    public DiffusionObjective Objective { get; }

    /// <summary>What the UNet learns to predict: <see cref="DiffusionObjective.PredictionType"/> or the scheduler's.</summary>
    public PredictionType PredictionType => Objective.PredictionType ?? _noiseScheduler.Config.PredictionType;

    /// <summary>
    /// Images [B, 3, H, W] in [-1, 1] → scaled latents: a sample of the VAE posterior (mean + std·ε, ε drawn from
    /// <paramref name="generator"/>) times the VAE's <c>scaling_factor</c>. No gradients.
    /// </summary>
    public Tensor EncodeImages(Tensor pixels, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var vaeDType = _vae.parameters().First().dtype;
        var posterior = _vae.Encode(pixels.to(_vae.parameters().First().device).to_type(vaeDType));
        return SampleLatents(posterior.Mean.to_type(ScalarType.Float32), posterior.Std.to_type(ScalarType.Float32), generator).MoveToOuterDisposeScope();
    }

    /// <summary>Scaled latents from a posterior's mean and std [B, C, h, w] (e.g. cached ones), ε drawn from <paramref name="generator"/>.</summary>
    public Tensor SampleLatents(Tensor mean, Tensor std, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var epsilon = randn(mean.shape, generator: generator).to(mean.device);
        return mean.Add(std * epsilon).Mul(_vae.Config.ScalingFactor).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Token ids [B, L] → the text encoder's last hidden states, with gradients only when the text encoder has
    /// trainable parameters (an adapter being trained).
    /// </summary>
    public Tensor EncodePrompts(Tensor inputIds)
    {
        if (_textEncoder.parameters().Any(p => p.requires_grad)) return _textEncoder.call(inputIds).LastHiddenState;
        using var noGrad = no_grad();
        return _textEncoder.call(inputIds).LastHiddenState;
    }

    /// <summary>
    /// SDXL: token ids of each encoder's tokenizer [B, L] → the concatenated penultimate hidden states and text_encoder_2's
    /// pooled <c>text_embeds</c>, by the pipeline's own code (<see cref="SdxlConditioning.EncodePrompt"/>), with gradients
    /// only when an encoder has trainable parameters.
    /// </summary>
    public (Tensor HiddenStates, Tensor TextEmbeds) EncodePrompts(Tensor inputIds, Tensor inputIds2)
    {
        var textEncoder2 = _textEncoder2 ?? throw new InvalidOperationException("This step has no second text encoder; SD 1.x/2.x prompts take one id tensor.");
        if (_textEncoder.parameters().Concat(textEncoder2.parameters()).Any(p => p.requires_grad))
            return SdxlConditioning.EncodePrompt(_textEncoder, textEncoder2, inputIds, inputIds2);
        using var noGrad = no_grad();
        return SdxlConditioning.EncodePrompt(_textEncoder, textEncoder2, inputIds, inputIds2);
    }

    /// <summary>
    /// Standard normal noise of the latents' shape (plus the offset noise of <see cref="DiffusionObjective.NoiseOffset"/>)
    /// and a uniform training timestep per example, drawn from <paramref name="generator"/> in that order.
    /// </summary>
    public (Tensor Noise, Tensor Timesteps) SampleNoise(Tensor latents, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        long batch = latents.shape[0];
        var noise = randn(latents.shape, generator: generator);
        if (Objective.NoiseOffset > 0) noise = noise.Add(randn([batch, latents.shape[1], 1, 1], generator: generator).Mul(Objective.NoiseOffset));
        var timesteps = randint(0, _noiseScheduler.Config.NumTrainTimesteps, [batch], generator: generator);
        return (noise.to(latents.device).MoveToOuterDisposeScope(), timesteps.to(latents.device).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The loss for scaled <paramref name="latents"/> [B, C, h, w] conditioned on <paramref name="encoderHiddenStates"/>
    /// [B, L, D], noised with <paramref name="noise"/> at <paramref name="timesteps"/> [B]; the last
    /// <paramref name="priorExamples"/> examples are class images of the prior-preservation term. An SDXL UNet
    /// (<c>addition_embed_type: "text_time"</c>) also takes <paramref name="added"/>.
    /// </summary>
    public DiffusionStepResult Loss(Tensor latents, Tensor encoderHiddenStates, Tensor noise, Tensor timesteps, int priorExamples = 0, SdxlAddedConditions? added = null)
    {
        if (priorExamples < 0 || priorExamples >= latents.shape[0])
            throw new ArgumentOutOfRangeException(nameof(priorExamples), priorExamples, $"A batch of {latents.shape[0]} examples can hold 0 to {latents.shape[0] - 1} prior examples.");
        if (_unet.Config.AdditionEmbedType == "text_time" && added is null)
            throw new ArgumentNullException(nameof(added), "An SDXL UNet (addition_embed_type \"text_time\") needs the pooled text embeddings and time ids.");
        using var scope = NewDisposeScope();
        var inputDType = FrozenDType(_unet);
        var noisy = _noiseScheduler.AddNoise(latents, noise, timesteps);
        var prediction = _unet.call(new UNet2DConditionInput(noisy.to_type(inputDType), timesteps, encoderHiddenStates.to_type(inputDType))
        {
            TextEmbeds = added?.TextEmbeds.to_type(inputDType),
            TimeIds = added?.TimeIds.to_type(inputDType),
        });
        var target = PredictionType == PredictionType.VPrediction ? _noiseScheduler.GetVelocity(latents, noise, timesteps) : noise;
        var (loss, priorLoss) = DiffusionLoss.Compute(prediction, target, timesteps, _noiseScheduler.AlphasCumprod, PredictionType,
            Objective.SnrGamma, priorExamples, Objective.PriorLossWeight);
        return new DiffusionStepResult(loss.MoveToOuterDisposeScope(), priorLoss?.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The whole step on raw inputs: <see cref="EncodeImages"/>, <see cref="EncodePrompts"/>, <see cref="SampleNoise"/>,
    /// then <see cref="Loss(Tensor, Tensor, Tensor, Tensor, int, SdxlAddedConditions)"/>. <paramref name="pixels"/> [B, 3, H, W] in [-1, 1],
    /// <paramref name="inputIds"/> [B, L].
    /// </summary>
    public DiffusionStepResult Loss(Tensor pixels, Tensor inputIds, Generator? generator = null, int priorExamples = 0)
    {
        if (pixels.shape[0] != inputIds.shape[0])
            throw new ArgumentException($"pixels hold {pixels.shape[0]} images but inputIds {inputIds.shape[0]} prompts; give one prompt per image.", nameof(inputIds));
        using var scope = NewDisposeScope();
        var latents = EncodeImages(pixels, generator);
        var (noise, timesteps) = SampleNoise(latents, generator);
        var result = Loss(latents, EncodePrompts(inputIds.to(latents.device)), noise, timesteps, priorExamples);
        return new DiffusionStepResult(result.Loss.MoveToOuterDisposeScope(), result.PriorLoss?.MoveToOuterDisposeScope());
    }

    /// <summary>The dtype of the UNet's frozen weights (half precision under mixed precision), which its inputs take.</summary>
    private static ScalarType FrozenDType(UNet2DConditionModel unet) =>
        unet.parameters().FirstOrDefault(p => !p.requires_grad)?.dtype ?? ScalarType.Float32;
}
