using Peft.Typed.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Schedulers;

/// <summary>
/// diffusers' <c>DDIMScheduler</c>: deterministic (eta = 0) or stochastic (eta &gt; 0) DDIM sampling steps over the
/// timesteps chosen by <see cref="DiffusionScheduler.SetTimesteps"/>.
/// </summary>
public sealed class DDIMScheduler : DiffusionScheduler
{
    /// <summary>Builds the scheduler of <paramref name="config"/>.</summary>
    public DDIMScheduler(SchedulerConfig config)
        : base(config)
    {
        FinalAlphaCumprod = (config.SetAlphaToOne ? tensor(1.0f) : AlphasCumprod[0].clone()).DetachFromDisposeScope();
    }

    /// <summary>Reads <c>scheduler_config.json</c> in <paramref name="folder"/> (a pipeline's <c>scheduler/</c>).</summary>
    public static DDIMScheduler FromFolder(string folder) => new(SchedulerConfig.FromFile(Path.Combine(folder, "scheduler_config.json")));

    /// <summary>ā used after the last step: 1 with <c>set_alpha_to_one</c>, else ā[0] (Stable Diffusion).</summary>
    public Tensor FinalAlphaCumprod { get; }

    /// <summary>
    /// One DDIM step from <paramref name="timestep"/> to <c>timestep − T // num_inference_steps</c> (DDIM paper eqs. 12
    /// and 16). With <paramref name="eta"/> &gt; 0, adds <c>eta·σ_t·noise</c>, the noise being
    /// <paramref name="varianceNoise"/> when given, else drawn with <paramref name="generator"/>.
    /// <paramref name="useClippedModelOutput"/> re-derives ε from the clipped x0.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="DiffusionScheduler.SetTimesteps"/> was not called.</exception>
    public SchedulerStepOutput Step(
        Tensor modelOutput,
        long timestep,
        Tensor sample,
        double eta = 0.0,
        bool useClippedModelOutput = false,
        Tensor? varianceNoise = null,
        Generator? generator = null)
    {
        if (NumInferenceSteps is not { } steps)
            throw new InvalidOperationException("Number of inference steps is not set: call SetTimesteps before Step.");
        if (varianceNoise is not null && generator is not null)
            throw new ArgumentException("Pass either varianceNoise or generator, not both.", nameof(varianceNoise));
        using var scope = NewDisposeScope();

        // 1-2. previous timestep and ā.
        var previous = timestep - Config.NumTrainTimesteps / steps;
        var alphaProdT = AlphaCumprodAt(timestep);
        var alphaProdTPrev = previous >= 0 ? AlphaCumprodAt(previous) : FinalAlphaCumprod;
        var betaProdT = alphaProdT.RSub(1);

        // 3. predicted x0 and ε.
        var predOriginalSample = PredictOriginalSample(modelOutput, sample, alphaProdT, betaProdT);
        var predEpsilon = Config.PredictionType == PredictionType.VPrediction
            ? (alphaProdT.Pow(0.5) * modelOutput).Add(betaProdT.Pow(0.5) * sample)
            : modelOutput;

        // 4. clip x0.
        if (Config.ClipSample) predOriginalSample = predOriginalSample.Clamp(-Config.ClipSampleRange, Config.ClipSampleRange);

        // 5. σ_t(η) = η·sqrt((1−ā_prev)/(1−ā_t))·sqrt(1−ā_t/ā_prev)
        var betaProdTPrev = alphaProdTPrev.RSub(1);
        var variance = betaProdTPrev / betaProdT * (alphaProdT / alphaProdTPrev).RSub(1);
        var stdDevT = variance.Pow(0.5).Mul(eta);
        if (useClippedModelOutput) predEpsilon = (sample - alphaProdT.Pow(0.5) * predOriginalSample) / betaProdT.Pow(0.5);

        // 6-7. direction pointing to x_t, then x_{t-1} without noise.
        var predSampleDirection = (alphaProdTPrev.RSub(1) - stdDevT.Pow(2)).Pow(0.5) * predEpsilon;
        var prevSample = (alphaProdTPrev.Pow(0.5) * predOriginalSample).Add(predSampleDirection);

        if (eta > 0)
        {
            var noise = varianceNoise ?? RandomNoise(modelOutput, generator);
            prevSample = prevSample.Add(stdDevT * noise);
        }
        return new SchedulerStepOutput(prevSample.MoveToOuterDisposeScope(), predOriginalSample.MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) FinalAlphaCumprod.Dispose();
        base.Dispose(disposing);
    }

    // diffusers' randn_tensor: with a (CPU) generator the noise is drawn on the CPU, then moved.
    private static Tensor RandomNoise(Tensor like, Generator? generator) =>
        generator is null
            ? randn(like.shape, dtype: like.dtype, device: like.device)
            : randn(like.shape, dtype: like.dtype, generator: generator).to(like.device);
}
