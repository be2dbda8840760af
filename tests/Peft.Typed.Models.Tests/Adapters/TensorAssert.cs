using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters;

/// <summary>Element-wise closeness as numpy's allclose: |actual - expected| ≤ atol + rtol · |expected|.</summary>
internal static class TensorAssert
{
    public static void Close(Tensor expected, Tensor actual, double atol, double rtol, string what)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}].");
        using var scope = NewDisposeScope();
        var e = expected.detach().to_type(ScalarType.Float64);
        var a = actual.detach().to_type(ScalarType.Float64);
        var excess = (a - e).abs() - e.abs().Mul(rtol).Add(atol);
        double worst = excess.max().item<double>();
        if (worst > 0)
        {
            long index = excess.flatten().argmax().item<long>();
            Assert.Fail($"{what}: element {index} is {a.flatten()[index].item<double>():R}, expected {e.flatten()[index].item<double>():R} "
                + $"(max |diff| {(a - e).abs().max().item<double>():E3}, atol {atol:E1}, rtol {rtol:E1}).");
        }
    }

    /// <summary>
    /// <paramref name="actual"/> equals <paramref name="expected"/> (atol 1e-5, rtol 1e-4) in value and in the gradients
    /// of the x, lora_A and lora_B tensors <paramref name="inputs"/> for one random upstream gradient from <paramref name="generator"/>.
    /// </summary>
    public static void CloseWithLoraGradients(Tensor expected, Tensor actual, (Tensor X, Tensor A, Tensor B) inputs, Generator generator)
    {
        var upstream = randn(expected.shape, generator: generator);
        var expectedGrads = autograd.grad([expected], [inputs.X, inputs.A, inputs.B], [upstream]);
        var actualGrads = autograd.grad([actual], [inputs.X, inputs.A, inputs.B], [upstream]);
        Close(expected, actual, 1e-5, 1e-4, "output");
        string[] names = ["x", "lora_A", "lora_B"];
        for (int i = 0; i < names.Length; i++) Close(expectedGrads[i], actualGrads[i], 1e-5, 1e-4, $"gradient of {names[i]}");
    }
}
