using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Schedulers;

/// <summary>
/// What diffusers' DDPM and DDIM schedulers share: the noise schedule buffers (float32, CPU, computed exactly as
/// diffusers does so that <see cref="AlphasCumprod"/> is bit-identical), the forward process used in training
/// (<see cref="AddNoise"/>, <see cref="GetVelocity"/>) and the choice of sampling timesteps (<see cref="SetTimesteps"/>).
/// </summary>
public abstract class DiffusionScheduler : IDisposable
{
    /// <summary>Builds the schedule of <paramref name="config"/>.</summary>
    protected DiffusionScheduler(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.NumTrainTimesteps <= 0)
            throw new ArgumentOutOfRangeException(nameof(config), config.NumTrainTimesteps, "num_train_timesteps must be positive.");
        if (config.TrainedBetas is { } trained && trained.Count != config.NumTrainTimesteps)
            throw new ArgumentException($"trained_betas has {trained.Count} values but num_train_timesteps is {config.NumTrainTimesteps}.", nameof(config));
        Config = config;

        using var scope = NewDisposeScope();
        var betas = CreateBetas(config);
        var alphas = betas.RSub(1.0);
        // float32 cumprod, as diffusers: a float64 cumprod cast to float32 differs by up to 4.8e-7.
        var alphasCumprod = alphas.cumprod(0);
        Betas = betas.DetachFromDisposeScope();
        Alphas = alphas.DetachFromDisposeScope();
        AlphasCumprod = alphasCumprod.DetachFromDisposeScope();
        Timesteps = TensorArithmetic.Arange(config.NumTrainTimesteps - 1, -1, -1, dtype: ScalarType.Int64).DetachFromDisposeScope();
    }

    /// <summary>The configuration this scheduler was built from.</summary>
    public SchedulerConfig Config { get; }

    /// <summary>β_t, float32, [num_train_timesteps].</summary>
    public Tensor Betas { get; }

    /// <summary>1 − β_t, float32.</summary>
    public Tensor Alphas { get; }

    /// <summary>ā_t = cumprod(1 − β), float32.</summary>
    public Tensor AlphasCumprod { get; }

    /// <summary>The sampling timesteps (int64, descending): all training timesteps until <see cref="SetTimesteps"/> is called.</summary>
    public Tensor Timesteps { get; private set; }

    /// <summary>The number of sampling steps given to <see cref="SetTimesteps"/>, or null before.</summary>
    public int? NumInferenceSteps { get; private set; }

    /// <summary>Standard deviation of the initial noise: 1 for DDPM and DDIM.</summary>
    public double InitNoiseSigma => 1.0;

    /// <summary>DDPM and DDIM do not scale the model input: returns <paramref name="sample"/>.</summary>
    public Tensor ScaleModelInput(Tensor sample, long timestep) => sample;

    /// <summary>
    /// The forward process <c>sqrt(ā_t)·x0 + sqrt(1−ā_t)·noise</c>, one timestep per batch item
    /// (diffusers' <c>add_noise</c>); ā is taken in the dtype and on the device of <paramref name="originalSamples"/>.
    /// </summary>
    public Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps)
    {
        using var scope = NewDisposeScope();
        var (sqrtAlpha, sqrtOneMinusAlpha) = ForwardCoefficients(originalSamples, timesteps);
        return (sqrtAlpha * originalSamples).Add(sqrtOneMinusAlpha * noise).MoveToOuterDisposeScope();
    }

    /// <summary>The v-prediction target <c>sqrt(ā_t)·noise − sqrt(1−ā_t)·sample</c> (diffusers' <c>get_velocity</c>).</summary>
    public Tensor GetVelocity(Tensor sample, Tensor noise, Tensor timesteps)
    {
        using var scope = NewDisposeScope();
        var (sqrtAlpha, sqrtOneMinusAlpha) = ForwardCoefficients(sample, timesteps);
        return (sqrtAlpha * noise - sqrtOneMinusAlpha * sample).MoveToOuterDisposeScope();
    }

    /// <summary>Chooses <paramref name="numInferenceSteps"/> sampling timesteps by <see cref="SchedulerConfig.TimestepSpacing"/>.</summary>
    public void SetTimesteps(int numInferenceSteps)
    {
        var trainSteps = Config.NumTrainTimesteps;
        if (numInferenceSteps <= 0 || numInferenceSteps > trainSteps)
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"num_inference_steps must be between 1 and num_train_timesteps ({trainSteps}).");
        var timesteps = Config.TimestepSpacing switch
        {
            TimestepSpacing.Linspace => LinspaceTimesteps(trainSteps, numInferenceSteps),
            TimestepSpacing.Leading => LeadingTimesteps(trainSteps, numInferenceSteps, Config.StepsOffset),
            TimestepSpacing.Trailing => TrailingTimesteps(trainSteps, numInferenceSteps),
            _ => throw new InvalidOperationException($"timestep_spacing {Config.TimestepSpacing} is not supported."),
        };
        Timesteps.Dispose();
        Timesteps = tensor(timesteps, dtype: ScalarType.Int64).DetachFromDisposeScope();
        NumInferenceSteps = numInferenceSteps;
    }

    /// <summary>ā at training timestep <paramref name="timestep"/>, a float32 scalar tensor.</summary>
    protected Tensor AlphaCumprodAt(long timestep)
    {
        if (timestep < 0 || timestep >= Config.NumTrainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(timestep), timestep, $"timestep must be in [0, {Config.NumTrainTimesteps - 1}].");
        return AlphasCumprod[timestep];
    }

    /// <summary>The predicted x0 of <paramref name="modelOutput"/> (epsilon or v), given ā_t and 1 − ā_t.</summary>
    protected Tensor PredictOriginalSample(Tensor modelOutput, Tensor sample, Tensor alphaProdT, Tensor betaProdT) =>
        Config.PredictionType switch
        {
            PredictionType.Epsilon => (sample - betaProdT.Pow(0.5) * modelOutput) / alphaProdT.Pow(0.5),
            PredictionType.VPrediction => alphaProdT.Pow(0.5) * sample - betaProdT.Pow(0.5) * modelOutput,
            _ => throw new InvalidOperationException($"prediction_type {Config.PredictionType} is not supported."),
        };

    /// <summary>Releases the schedule tensors.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the schedule tensors; a derived scheduler releases its own tensors, then calls this.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        Betas.Dispose();
        Alphas.Dispose();
        AlphasCumprod.Dispose();
        Timesteps.Dispose();
    }

    private (Tensor SqrtAlpha, Tensor SqrtOneMinusAlpha) ForwardCoefficients(Tensor samples, Tensor timesteps)
    {
        var alphasCumprod = AlphasCumprod.to(samples.dtype, samples.device);
        var index = timesteps.to(samples.device).flatten();
        var selected = alphasCumprod.index_select(0, index);
        var sqrtAlpha = selected.Pow(0.5);
        var sqrtOneMinusAlpha = selected.RSub(1).Pow(0.5);
        // [B] -> [B, 1, 1, 1] so each batch item gets its own coefficient.
        while (sqrtAlpha.dim() < samples.dim())
        {
            sqrtAlpha = sqrtAlpha.unsqueeze(-1);
            sqrtOneMinusAlpha = sqrtOneMinusAlpha.unsqueeze(-1);
        }
        return (sqrtAlpha, sqrtOneMinusAlpha);
    }

    private static Tensor CreateBetas(SchedulerConfig config)
    {
        var n = config.NumTrainTimesteps;
        if (config.TrainedBetas is { } trained) return tensor(trained.ToArray(), dtype: ScalarType.Float32);
        return config.BetaSchedule switch
        {
            BetaSchedule.Linear => linspace(config.BetaStart, config.BetaEnd, n, dtype: ScalarType.Float32),
            // Python's beta_start**0.5 (libm pow), then a float32 linspace squared in float32.
            BetaSchedule.ScaledLinear => linspace(Math.Pow(config.BetaStart, 0.5), Math.Pow(config.BetaEnd, 0.5), n, dtype: ScalarType.Float32).Pow(2),
            BetaSchedule.SquaredCosCapV2 => tensor(CosineBetas(n), dtype: ScalarType.Float32),
            _ => throw new InvalidOperationException($"beta_schedule {config.BetaSchedule} is not supported."),
        };
    }

    // diffusers' betas_for_alpha_bar (cosine), in float64 like Python, cast to float32 by the caller.
    private static double[] CosineBetas(int n, double maxBeta = 0.999)
    {
        static double AlphaBar(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);
        var betas = new double[n];
        for (var i = 0; i < n; i++)
        {
            var t1 = (double)i / n;
            var t2 = (double)(i + 1) / n;
            betas[i] = Math.Min(1 - AlphaBar(t2) / AlphaBar(t1), maxBeta);
        }
        return betas;
    }

    // np.linspace(0, T-1, n).round()[::-1]: numpy computes i*step (last = stop exactly) and rounds half to even.
    private static long[] LinspaceTimesteps(int trainSteps, int n)
    {
        var stop = (double)(trainSteps - 1);
        var step = n > 1 ? stop / (n - 1) : 0.0;
        var values = new long[n];
        for (var i = 0; i < n; i++)
        {
            var value = n > 1 && i == n - 1 ? stop : i * step;
            values[n - 1 - i] = (long)Math.Round(value, MidpointRounding.ToEven);
        }
        return values;
    }

    private static long[] LeadingTimesteps(int trainSteps, int n, int stepsOffset)
    {
        var ratio = trainSteps / n;
        return [.. Enumerable.Range(0, n).Reverse().Select(i => (long)i * ratio + stepsOffset)];
    }

    // np.round(np.arange(T, 0, -T/n)).astype(int64) - 1; numpy fills a float arange as start + i*(second - start).
    private static long[] TrailingTimesteps(int trainSteps, int n)
    {
        var ratio = (double)trainSteps / n;
        var count = (int)Math.Ceiling(trainSteps / ratio);
        var delta = (trainSteps - ratio) - trainSteps;
        return [.. Enumerable.Range(0, count).Select(i => (long)Math.Round(trainSteps + i * delta, MidpointRounding.ToEven) - 1)];
    }
}
