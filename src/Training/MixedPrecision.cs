namespace Peft.Typed.Training;

/// <summary>accelerate's <c>--mixed_precision</c>: frozen weights in half precision, trainable adapters in fp32.</summary>
public enum MixedPrecision
{
    No,
    Fp16,
    Bf16,
}
