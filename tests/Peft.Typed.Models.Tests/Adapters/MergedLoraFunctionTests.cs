using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters;

/// <summary>
/// The merged-weight LoRA node equals PEFT's order, <c>conv(x) + scaling·lora_B(lora_A(x))</c> (or linear) with
/// libtorch's own operations and autograd, in value and in the gradients of x, lora_A and lora_B.
/// </summary>
public class MergedLoraFunctionTests
{
    private const double Scaling = LoraConvCase.Scaling;

    [Theory]
    [MemberData(nameof(LoraConvCase.Geometries), MemberType = typeof(LoraConvCase))]
    public void Conv2d_equals_base_plus_branch(long kh, long kw, long sh, long sw, long ph, long pw, long h, long w)
    {
        using var scope = NewDisposeScope();
        var c = LoraConvCase.Create(kh, kw, sh, sw, ph, pw, h, w);
        using var conv = c.Conv;
        c.AssertMatches(c.Base().Add(c.Branch()), MergedLoraFunction.Apply(c.X, c.Geometry, conv.weight, conv.bias, c.A, c.B, Scaling));
    }

    [Theory]
    [InlineData(new long[] { 7, 6 })]
    [InlineData(new long[] { 2, 5, 6 })]
    public void Linear_equals_base_plus_branch(long[] shape)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        using var linear = nn.Linear(6, 5);
        var x = randn(shape, generator: generator).requires_grad_();
        var a = randn([4, 6], generator: generator).requires_grad_();
        var b = randn([5, 4], generator: generator).requires_grad_();
        var expected = nn.functional.linear(x, linear.weight.detach(), linear.bias!.detach())
            .Add(nn.functional.linear(nn.functional.linear(x, a), b).Mul(Scaling));
        var actual = MergedLoraFunction.Apply(x, LayerGeometry.Of(linear, "linear"), linear.weight.detach(), linear.bias!.detach(), a, b, Scaling);
        TensorAssert.CloseWithLoraGradients(expected, actual, (x, a, b), generator);
    }

    [Fact]
    public void An_input_without_gradient_gets_none_and_the_factors_still_train()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(3);
        using var conv = nn.Conv2d(6, 4, 3, padding: 1);
        var x = randn([2, 6, 7, 7], generator: generator);
        var a = randn([2, 6, 3, 3], generator: generator).requires_grad_();
        var b = randn([4, 2, 1, 1], generator: generator).requires_grad_();
        var expected = nn.functional.conv2d(nn.functional.conv2d(x, a, padding: [1, 1]), b).Mul(Scaling);
        var upstream = randn(expected.shape, generator: generator);
        var expectedGrads = autograd.grad([expected], [a, b], [upstream]);

        var actual = MergedLoraFunction.Apply(x, LayerGeometry.Of(conv, "conv"), conv.weight, conv.bias, a, b, Scaling);
        var actualGrads = autograd.grad([actual], [a, b], [upstream]);

        Assert.Null(x.grad);
        TensorAssert.Close(expectedGrads[0], actualGrads[0], 1e-5, 1e-4, "gradient of lora_A");
        TensorAssert.Close(expectedGrads[1], actualGrads[1], 1e-5, 1e-4, "gradient of lora_B");
    }

    [Theory]
    [InlineData(320, 320, 64, true)] // 64×64 output: 4096·(2880+320) ≥ 320·2880
    [InlineData(640, 640, 32, true)] // 32×32 output: 1024·(5760+640) ≥ 640·5760
    [InlineData(1280, 1280, 8, false)] // 8×8 output: 64·(11520+1280) < 1280·11520
    public void The_merged_path_is_taken_where_it_does_less_work(long inChannels, long outChannels, long size, bool expected)
    {
        using var scope = NewDisposeScope();
        using var conv = nn.Conv2d(inChannels, outChannels, 3, padding: 1);
        Assert.Equal(expected, MergedLoraFunction.Pays(LayerGeometry.Of(conv, "layer"), empty(1, inChannels, size, size)));
    }

    [Theory]
    [InlineData(320, 320, 2 * 1024, true)] // attention at a 32×32 level, batch 2: 2048·640 ≥ 320·320
    [InlineData(1280, 320, 2 * 64, false)] // feed-forward output at an 8×8 level: 128·1600 < 320·1280
    [InlineData(768, 768, 2 * 77, false)] // a text encoder's 77 tokens: 154·1536 < 768·768
    [InlineData(64, 64, 2 * 64, false)] // the embedded model's 8×8 attention: 128·128 ≥ 64·64 but < MinimumLinearRowElements
    [InlineData(128, 128, 512, true)] // 512·256 = MinimumLinearRowElements
    public void The_merged_linear_path_is_taken_where_it_does_less_work(long inFeatures, long outFeatures, long rows, bool expected)
    {
        using var scope = NewDisposeScope();
        using var linear = nn.Linear(inFeatures, outFeatures);
        Assert.Equal(expected, MergedLoraFunction.Pays(LayerGeometry.Of(linear, "layer"), empty(rows, inFeatures)));
    }
}
