using Peft.Typed.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Schedulers;

/// <summary>
/// diffusers' <c>DDPMScheduler</c>: the training noise schedule (<see cref="DiffusionScheduler.AddNoise"/>,
/// <see cref="DiffusionScheduler.GetVelocity"/>) and ancestral sampling steps with <c>variance_type="fixed_small"</c>.
/// </summary>
public sealed class DDPMScheduler : DiffusionScheduler
{
    /// <summary>Builds the scheduler of <paramref name="config"/>.</summary>
    public DDPMScheduler(SchedulerConfig config)
        : base(config)
    {
    }

    /// <summary>Reads <c>scheduler_config.json</c> in <paramref name="folder"/> (a pipeline's <c>scheduler/</c>).</summary>
    public static DDPMScheduler FromFolder(string folder) => new(SchedulerConfig.FromFile(Path.Combine(folder, "scheduler_config.json")));

    /// <summary>
    /// The timestep before <paramref name="timestep"/>: <c>t − T // num_inference_steps</c>, with T // T = 1 before
    /// <see cref="DiffusionScheduler.SetTimesteps"/>.
    /// </summary>
    public long PreviousTimestep(long timestep) => timestep - Config.NumTrainTimesteps / (NumInferenceSteps ?? Config.NumTrainTimesteps);

    /// <summary>
    /// One reverse step from <paramref name="timestep"/> (diffusers' <c>step</c>): the posterior mean from the predicted
    /// x0 (clamped when <c>clip_sample</c>), plus <c>sqrt(variance)·noise</c> when t &gt; 0. The noise is
    /// <paramref name="varianceNoise"/> when given (to reproduce a run), else drawn with <paramref name="generator"/>.
    /// </summary>
    public SchedulerStepOutput Step(Tensor modelOutput, long timestep, Tensor sample, Tensor? varianceNoise = null, Generator? generator = null)
    {
        if (varianceNoise is not null && generator is not null)
            throw new ArgumentException("Pass either varianceNoise or generator, not both.", nameof(varianceNoise));
        using var scope = NewDisposeScope();
        var previous = PreviousTimestep(timestep);

        // 1. ā_t, ā_prev (1.0 before the first training step) and the step's own α_t, β_t.
        var alphaProdT = AlphaCumprodAt(timestep);
        var alphaProdTPrev = previous >= 0 ? AlphaCumprodAt(previous) : tensor(1.0f);
        var betaProdT = alphaProdT.RSub(1);
        var betaProdTPrev = alphaProdTPrev.RSub(1);
        var currentAlphaT = alphaProdT / alphaProdTPrev;
        var currentBetaT = currentAlphaT.RSub(1);

        // 2-3. predicted x0, clipped.
        var predOriginalSample = PredictOriginalSample(modelOutput, sample, alphaProdT, betaProdT);
        if (Config.ClipSample) predOriginalSample = predOriginalSample.Clamp(-Config.ClipSampleRange, Config.ClipSampleRange);

        // 4-5. posterior mean μ_t (DDPM paper eq. 7).
        var predOriginalSampleCoeff = alphaProdTPrev.Pow(0.5) * currentBetaT / betaProdT;
        var currentSampleCoeff = currentAlphaT.Pow(0.5) * betaProdTPrev / betaProdT;
        var prevSample = (predOriginalSampleCoeff * predOriginalSample).Add(currentSampleCoeff * sample);

        // 6. noise, except at the last step; β_t here is 1 − ā_t/ā_prev, not betas[t].
        if (timestep > 0)
        {
            var noise = varianceNoise ?? RandomNoise(modelOutput, generator);
            var variance = (alphaProdTPrev.RSub(1) / alphaProdT.RSub(1) * currentBetaT).ClampMin(1e-20);
            prevSample = prevSample.Add(variance.Pow(0.5) * noise);
        }
        return new SchedulerStepOutput(prevSample.MoveToOuterDisposeScope(), predOriginalSample.MoveToOuterDisposeScope());
    }

    // diffusers' randn_tensor: with a (CPU) generator the noise is drawn on the CPU, then moved.
    private static Tensor RandomNoise(Tensor like, Generator? generator) =>
        generator is null
            ? randn(like.shape, dtype: like.dtype, device: like.device)
            : randn(like.shape, dtype: like.dtype, generator: generator).to(like.device);
}
