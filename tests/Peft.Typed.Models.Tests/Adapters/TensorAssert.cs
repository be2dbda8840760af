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
}
