using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Lora;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters;

/// <summary>The im2col-free LoRA convolution branch equals lora_B(lora_A(x))·scaling with libtorch's conv2d, values and gradients.</summary>
public class LoraConvBranchTests
{
    [Theory]
    [MemberData(nameof(LoraConvCase.Geometries), MemberType = typeof(LoraConvCase))]
    public void Equals_the_two_convolutions(long kh, long kw, long sh, long sw, long ph, long pw, long h, long w)
    {
        using var scope = NewDisposeScope();
        var c = LoraConvCase.Create(kh, kw, sh, sw, ph, pw, h, w);
        using var conv = c.Conv;
        c.AssertMatches(c.Branch(), LoraConvBranch.Forward(c.X, c.Geometry, c.A, c.B, LoraConvCase.Scaling));
    }
}
