namespace Peft.Typed.Training.Optimization;

/// <summary>diffusers' <c>--lr_scheduler</c> (transformers' <c>SchedulerType</c>); the command line spells them in snake_case.</summary>
public enum LearningRateScheduler
{
    Constant,
    ConstantWithWarmup,
    Linear,
    Cosine,
    CosineWithRestarts,
    Polynomial,
}
