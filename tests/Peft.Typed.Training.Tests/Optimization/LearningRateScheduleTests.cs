using Peft.Typed.Training.Optimization;

namespace Peft.Typed.Training.Tests.Optimization;

// Expected values are the closed forms of transformers' schedules evaluated by hand at chosen steps.
public class LearningRateScheduleTests
{
    [Theory]
    [InlineData(LearningRateScheduler.Constant, 0, 1.0)]
    [InlineData(LearningRateScheduler.Constant, 99, 1.0)]
    [InlineData(LearningRateScheduler.ConstantWithWarmup, 5, 0.5)]
    [InlineData(LearningRateScheduler.ConstantWithWarmup, 50, 1.0)]
    [InlineData(LearningRateScheduler.Linear, 5, 0.5)]
    [InlineData(LearningRateScheduler.Linear, 10, 1.0)]
    [InlineData(LearningRateScheduler.Linear, 55, 0.5)]
    [InlineData(LearningRateScheduler.Linear, 100, 0.0)]
    [InlineData(LearningRateScheduler.Cosine, 10, 1.0)]
    [InlineData(LearningRateScheduler.Cosine, 55, 0.5)]
    [InlineData(LearningRateScheduler.Cosine, 100, 0.0)]
    public void Schedules_follow_transformers_formulas(LearningRateScheduler name, int step, double expected)
    {
        var schedule = new LearningRateSchedule(name, warmupSteps: 10, totalSteps: 100);
        Assert.Equal(expected, schedule.Factor(step), 12);
    }

    [Fact]
    public void Cosine_with_restarts_restarts_each_cycle()
    {
        var schedule = new LearningRateSchedule(LearningRateScheduler.CosineWithRestarts, warmupSteps: 0, totalSteps: 100, numCycles: 2);
        Assert.Equal(1.0, schedule.Factor(0), 12);
        Assert.Equal(0.5, schedule.Factor(25), 12);
        Assert.Equal(1.0, schedule.Factor(50), 12);
        Assert.Equal(0.5, schedule.Factor(75), 12);
        Assert.Equal(0.0, schedule.Factor(100), 12);
    }

    [Fact]
    public void Polynomial_decays_to_absolute_end_rate()
    {
        var schedule = new LearningRateSchedule(LearningRateScheduler.Polynomial, warmupSteps: 0, totalSteps: 10, power: 2.0, baseLearningRate: 1e-4);
        // (lr0 - 1e-7) * (1 - 5/10)^2 + 1e-7, relative to lr0.
        Assert.Equal(((1e-4 - 1e-7) * 0.25 + 1e-7) / 1e-4, schedule.Factor(5), 12);
        Assert.Equal(1e-7 / 1e-4, schedule.Factor(10), 12);
    }
}
