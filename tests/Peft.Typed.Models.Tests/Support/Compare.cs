using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Support;

/// <summary>Assertions on tensors against the reference fixtures.</summary>
public static class Compare
{
    /// <summary>Asserts equal shapes and max |actual - expected| &lt;= <paramref name="atol"/> + <paramref name="rtol"/> |expected|.</summary>
    public static void Close(Tensor expected, Tensor actual, double atol, double rtol = 0, string what = "")
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        using var scope = NewDisposeScope();
        var e = expected.to_type(ScalarType.Float64).cpu();
        var a = actual.to_type(ScalarType.Float64).cpu();
        var excess = ((a - e).abs() - e.abs().Mul(rtol).Add(atol)).max().item<double>();
        var maxDiff = (a - e).abs().max().item<double>();
        Assert.True(excess <= 0 && !double.IsNaN(maxDiff), $"{what}: max abs diff {maxDiff:E2} exceeds atol {atol:E0} + rtol {rtol:E0}·|expected|");
    }
}
