using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Training;

/// <summary>
/// Mixed precision without autocast: frozen layers are stored and run in half precision while every trainable
/// tensor (adapter weights, trainable biases) stays fp32; adapter layers cast their input to the adapter dtype and
/// their output back, as PEFT does.
/// </summary>
public static class MixedPrecisionCaster
{
    public static ScalarType? WeightDType(MixedPrecision precision) => precision switch
    {
        MixedPrecision.Fp16 => ScalarType.Float16,
        MixedPrecision.Bf16 => ScalarType.BFloat16,
        _ => null,
    };

    /// <summary>Casts every leaf module of <paramref name="model"/> none of whose parameters is trainable.</summary>
    public static void CastFrozenLeaves(nn.Module model, ScalarType dtype)
    {
        foreach (var (_, module) in model.named_modules())
        {
            if (module.children().Any()) continue;
            var parameters = module.parameters(recurse: false).ToList();
            if (parameters.Count > 0 && parameters.All(p => !p.requires_grad)) module.to(dtype);
        }
    }
}
