using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Pipelines;

/// <summary>Bit-for-bit tensor equality (TorchSharp's <c>equal</c> is element-wise).</summary>
internal static class Identical
{
    /// <summary>Fails with how the tensors differ (shapes, how many elements, by how much, NaNs) unless they are bit for bit equal.</summary>
    public static void Tensors(Tensor expected, Tensor actual, string what = "tensors differ")
    {
        if (Difference(expected, actual) is { } difference) Assert.Fail($"{what}: {difference}");
    }

    /// <summary>How <paramref name="a"/> and <paramref name="b"/> differ, or null when they are bit for bit equal.</summary>
    private static string? Difference(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape)) return $"shapes [{string.Join(", ", a.shape)}] and [{string.Join(", ", b.shape)}]";
        using var scope = NewDisposeScope();
        var unequal = a.ne(b);
        long count = unequal.sum().item<long>();
        if (count == 0) return null;
        float largest = (a - b).abs().nan_to_num().max().item<float>();
        long nanA = a.isnan().sum().item<long>(), nanB = b.isnan().sum().item<long>();
        return $"{count} of {a.numel()} elements differ, the largest by {largest:R} (NaN in the first: {nanA}, in the second: {nanB})";
    }
}
