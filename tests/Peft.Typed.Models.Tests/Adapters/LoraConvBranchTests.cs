using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters;

/// <summary>The im2col-free LoRA convolution branch equals lora_B(lora_A(x))·scaling with libtorch's conv2d, values and gradients.</summary>
public class LoraConvBranchTests
{
    [Theory]
    [InlineData(3, 3, 1, 1, 1, 1, 9, 9)]
    [InlineData(3, 3, 2, 2, 1, 1, 9, 9)]
    [InlineData(3, 3, 2, 2, 1, 1, 8, 8)]
    [InlineData(1, 1, 1, 1, 0, 0, 6, 5)]
    [InlineData(5, 3, 2, 1, 2, 0, 11, 7)]
    [InlineData(3, 3, 1, 1, 0, 0, 6, 6)]
    public void Equals_the_two_convolutions(long kh, long kw, long sh, long sw, long ph, long pw, long h, long w)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(42);
        const long channels = 6, rank = 4, outChannels = 5;
        const double scaling = 0.75;
        using var conv = nn.Conv2d(channels, outChannels, (kh, kw), (sh, sw), (ph, pw));
        var geometry = LayerGeometry.Of(conv, "conv");
        var x = randn([2, channels, h, w], generator: generator).requires_grad_();
        var a = randn([rank, channels, kh, kw], generator: generator).requires_grad_();
        var b = randn([outChannels, rank, 1, 1], generator: generator).requires_grad_();
        var expected = nn.functional.conv2d(nn.functional.conv2d(x, a, null, [sh, sw], [ph, pw]), b).Mul(scaling);
        var upstream = randn(expected.shape, generator: generator);
        var expectedGrads = autograd.grad([expected], [x, a, b], [upstream]);
        var actual = LoraConvBranch.Forward(x, geometry, a, b, scaling);
        var actualGrads = autograd.grad([actual], [x, a, b], [upstream]);

        Assert.Equal(expected.shape, actual.shape);
        Assert.True((expected - actual).abs().max().item<float>() < 1e-4f, "values differ");
        string[] names = ["x", "lora_A", "lora_B"];
        for (int i = 0; i < 3; i++)
        {
            float difference = (expectedGrads[i] - actualGrads[i]).abs().max().item<float>();
            Assert.True(difference < 1e-4f, $"gradient of {names[i]} differs by {difference}");
        }
    }
}
