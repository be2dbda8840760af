namespace Peft.Typed.Training.Optimization;

/// <summary>
/// The learning-rate multipliers of diffusers' <c>get_scheduler</c> (transformers' optimisation schedules),
/// as a pure function of the optimizer step. The trainer multiplies the base learning rate by <see cref="Factor"/>.
/// </summary>
public sealed class LearningRateSchedule
{
    private readonly LearningRateScheduler _kind;
    private readonly int _warmupSteps;
    private readonly int _totalSteps;
    private readonly double _numCycles;
    private readonly double _power;
    private readonly double _baseLearningRate;

    /// <param name="kind">The schedule.</param>
    /// <param name="warmupSteps">Linear warm-up length (ignored by <c>constant</c>).</param>
    /// <param name="totalSteps">Number of optimizer steps of the run.</param>
    /// <param name="numCycles">Hard restarts for <c>cosine_with_restarts</c> (diffusers' <c>lr_num_cycles</c>).</param>
    /// <param name="power">Exponent of <c>polynomial</c> (diffusers' <c>lr_power</c>).</param>
    /// <param name="baseLearningRate">Needed by <c>polynomial</c>, which decays towards an absolute 1e-7.</param>
    public LearningRateSchedule(LearningRateScheduler kind, int warmupSteps, int totalSteps, int numCycles = 1, double power = 1.0, double baseLearningRate = 1.0)
    {
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown learning-rate scheduler.");
        if (warmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "lr_warmup_steps must be >= 0.");
        if (totalSteps <= 0) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "The number of training steps must be > 0.");
        _kind = kind;
        _warmupSteps = warmupSteps;
        _totalSteps = totalSteps;
        _numCycles = numCycles;
        _power = power;
        _baseLearningRate = baseLearningRate;
    }

    /// <summary>The multiplier of the base learning rate at optimizer step <paramref name="step"/> (0-based).</summary>
    public double Factor(int step)
    {
        if (_kind == LearningRateScheduler.Constant) return 1.0;
        if (step < _warmupSteps) return (double)step / Math.Max(1, _warmupSteps);
        double progress = (double)(step - _warmupSteps) / Math.Max(1, _totalSteps - _warmupSteps);
        return _kind switch
        {
            LearningRateScheduler.ConstantWithWarmup => 1.0,
            LearningRateScheduler.Linear => Math.Max(0.0, (double)(_totalSteps - step) / Math.Max(1, _totalSteps - _warmupSteps)),
            // transformers' get_cosine_schedule_with_warmup uses num_cycles = 0.5: half a cosine wave to zero.
            LearningRateScheduler.Cosine => Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * 0.5 * 2.0 * progress))),
            LearningRateScheduler.CosineWithRestarts => progress >= 1.0 ? 0.0 : Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * (_numCycles * progress % 1.0)))),
            LearningRateScheduler.Polynomial => Polynomial(step),
            _ => throw new InvalidOperationException(_kind.ToString()),
        };
    }

    private double Polynomial(int step)
    {
        const double lrEnd = 1e-7;
        if (step > _totalSteps) return lrEnd / _baseLearningRate;
        double range = _baseLearningRate - lrEnd;
        double remaining = 1.0 - (double)(step - _warmupSteps) / (_totalSteps - _warmupSteps);
        return (range * Math.Pow(remaining, _power) + lrEnd) / _baseLearningRate;
    }
}
