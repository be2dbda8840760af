using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Pipelines;

/// <summary>Bit-for-bit tensor equality (TorchSharp's <c>equal</c> is element-wise).</summary>
internal static class Identical
{
    public static bool Tensors(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape)) return false;
        using var scope = NewDisposeScope();
        return a.eq(b).all().item<bool>();
    }
}
