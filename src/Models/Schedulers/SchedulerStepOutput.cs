using static TorchSharp.torch;

namespace Peft.Typed.Models.Schedulers;

/// <summary>The result of one sampling step: the sample at the previous timestep and the predicted clean sample x0.</summary>
public sealed record SchedulerStepOutput(Tensor PrevSample, Tensor PredOriginalSample);
