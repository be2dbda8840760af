namespace Peft.Typed.Models.Schedulers;

/// <summary>diffusers' <c>prediction_type</c>: what the denoising model outputs.</summary>
public enum PredictionType
{
    /// <summary><c>"epsilon"</c>: the added noise (SD 1.x, SD 2 base).</summary>
    Epsilon,

    /// <summary><c>"v_prediction"</c>: the velocity <c>sqrt(a)·noise − sqrt(1−a)·x0</c> (SD 2.x 768-v).</summary>
    VPrediction,
}
