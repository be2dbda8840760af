using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Lora;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters;

/// <summary>
/// The merged-weight LoRA training node equals PEFT's order, <c>base_layer(x) + scaling·lora_B(lora_A(x))</c> with
/// libtorch's own operations and autograd, in value and in the gradients of x, lora_A and lora_B.
/// </summary>
public class MergedLoraFunctionTests
{
    private const double Scaling = 0.75;

    [Theory]
    [InlineData(3, 3, 1, 1, 1, 1, 9, 9)]
    [InlineData(3, 3, 2, 2, 1, 1, 9, 9)]
    [InlineData(3, 3, 2, 2, 1, 1, 8, 8)]
    [InlineData(1, 1, 1, 1, 0, 0, 6, 5)]
    [InlineData(5, 3, 2, 1, 2, 0, 11, 7)]
    [InlineData(3, 3, 1, 1, 0, 0, 6, 6)]
    [InlineData(4, 4, 3, 3, 1, 1, 13, 10)]
    public void Conv2d_equals_base_plus_branch(long kh, long kw, long sh, long sw, long ph, long pw, long h, long w)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(42);
        const long channels = 6, rank = 4, outChannels = 5;
        using var conv = nn.Conv2d(channels, outChannels, (kh, kw), (sh, sw), (ph, pw));
        var geometry = LayerGeometry.Of(conv, "conv");
        var x = randn([2, channels, h, w], generator: generator).requires_grad_();
        var a = randn([rank, channels, kh, kw], generator: generator).requires_grad_();
        var b = randn([outChannels, rank, 1, 1], generator: generator).requires_grad_();
        var expected = nn.functional.conv2d(x, conv.weight.detach(), conv.bias!.detach(), [sh, sw], [ph, pw])
            + nn.functional.conv2d(nn.functional.conv2d(x, a, null, [sh, sw], [ph, pw]), b) * Scaling;

        AssertSameValueAndGradients(expected, x, a, b, () => MergedLoraFunction.Apply(x, geometry, conv.weight, conv.bias, a, b, Scaling), generator);
    }

    [Theory]
    [InlineData(new long[] { 7, 6 })]
    [InlineData(new long[] { 2, 5, 6 })]
    public void Linear_equals_base_plus_branch(long[] inputShape)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        const long inFeatures = 6, rank = 3, outFeatures = 4;
        using var linear = nn.Linear(inFeatures, outFeatures);
        var geometry = LayerGeometry.Of(linear, "linear");
        var x = randn(inputShape, generator: generator).requires_grad_();
        var a = randn([rank, inFeatures], generator: generator).requires_grad_();
        var b = randn([outFeatures, rank], generator: generator).requires_grad_();
        var expected = nn.functional.linear(x, linear.weight.detach(), linear.bias!.detach())
            + nn.functional.linear(nn.functional.linear(x, a), b) * Scaling;

        AssertSameValueAndGradients(expected, x, a, b, () => MergedLoraFunction.Apply(x, geometry, linear.weight, linear.bias, a, b, Scaling), generator);
    }

    [Fact]
    public void An_input_without_gradient_gets_none_and_the_factors_still_train()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(3);
        using var linear = nn.Linear(6, 4);
        var x = randn([5, 6], generator: generator);
        var a = randn([2, 6], generator: generator).requires_grad_();
        var b = randn([4, 2], generator: generator).requires_grad_();
        var expected = nn.functional.linear(nn.functional.linear(x, a), b) * Scaling;
        var upstream = randn(expected.shape, generator: generator);
        var expectedGrads = autograd.grad([expected], [a, b], [upstream]);

        var actual = MergedLoraFunction.Apply(x, LayerGeometry.Of(linear, "linear"), linear.weight, linear.bias, a, b, Scaling);
        var actualGrads = autograd.grad([actual], [a, b], [upstream]);

        Assert.Null(x.grad);
        for (int i = 0; i < 2; i++) Assert.True((expectedGrads[i] - actualGrads[i]).abs().max().item<float>() < 1e-4f);
    }

    [Theory]
    [InlineData("linear", 768, 320, 2 * 77, false)] // cross-attention keys: 154·(768+320) < 320·768
    [InlineData("linear", 320, 320, 4096, true)] // self-attention at 64×64: 4096·640 ≥ 320·320
    [InlineData("linear", 1280, 320, 1, false)] // time-embedding projection, one example
    [InlineData("conv", 320, 320, 64, true)] // 64×64 output: 4096·(2880+320) ≥ 320·2880
    [InlineData("conv", 1280, 1280, 8, false)] // 8×8 output: 64·(11520+1280) < 1280·11520
    [InlineData("conv", 640, 640, 32, true)] // 32×32 output: 1024·(5760+640) ≥ 640·5760
    public void The_merged_path_is_taken_where_it_does_less_work(string kind, long inFeatures, long outFeatures, long rows, bool expected)
    {
        using var scope = NewDisposeScope();
        using nn.Module<Tensor, Tensor> layer = kind == "linear" ? nn.Linear(inFeatures, outFeatures) : nn.Conv2d(inFeatures, outFeatures, 3, padding: 1);
        var x = kind == "linear" ? empty(rows, inFeatures) : empty(1, inFeatures, rows, rows);
        Assert.Equal(expected, MergedLoraFunction.Pays(LayerGeometry.Of(layer, "layer"), x));
    }

    private static void AssertSameValueAndGradients(Tensor expected, Tensor x, Tensor a, Tensor b, Func<Tensor> merged, Generator generator)
    {
        var upstream = randn(expected.shape, generator: generator);
        var expectedGrads = autograd.grad([expected], [x, a, b], [upstream]);
        var actual = merged();
        var actualGrads = autograd.grad([actual], [x, a, b], [upstream]);

        Assert.Equal(expected.shape, actual.shape);
        float valueDifference = (expected - actual).abs().max().item<float>();
        Assert.True(valueDifference < 1e-4f, $"values differ by {valueDifference}");
        string[] names = ["x", "lora_A", "lora_B"];
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(expectedGrads[i].shape, actualGrads[i].shape);
            float difference = (expectedGrads[i] - actualGrads[i]).abs().max().item<float>();
            Assert.True(difference < 1e-4f, $"gradient of {names[i]} differs by {difference}");
        }
    }
}
