using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters;

/// <summary>
/// A small convolution with random LoRA factors and an input, all requiring gradients, for checking the CPU LoRA
/// convolution paths against libtorch's conv2d; <see cref="Geometries"/> covers kernel, stride, padding and odd sizes.
/// </summary>
internal sealed record LoraConvCase(TorchSharp.Modules.Conv2d Conv, LayerGeometry Geometry, Tensor X, Tensor A, Tensor B, Generator Generator)
{
    public const double Scaling = 0.75;

    /// <summary>kh, kw, sh, sw, ph, pw, h, w.</summary>
    public static IEnumerable<object[]> Geometries =>
    [
        [3L, 3L, 1L, 1L, 1L, 1L, 9L, 9L],
        [3L, 3L, 2L, 2L, 1L, 1L, 9L, 9L],
        [3L, 3L, 2L, 2L, 1L, 1L, 8L, 8L],
        [1L, 1L, 1L, 1L, 0L, 0L, 6L, 5L],
        [5L, 3L, 2L, 1L, 2L, 0L, 11L, 7L],
        [3L, 3L, 1L, 1L, 0L, 0L, 6L, 6L],
        [4L, 4L, 3L, 3L, 1L, 1L, 13L, 10L],
        [5L, 3L, 1L, 1L, 2L, 1L, 7L, 6L],
    ];

    /// <summary>Six input channels, rank 4, five output channels, batch 2; the caller disposes the convolution.</summary>
    public static LoraConvCase Create(long kh, long kw, long sh, long sw, long ph, long pw, long h, long w)
    {
        const long channels = 6, rank = 4, outChannels = 5;
        var generator = new Generator(42);
        var conv = nn.Conv2d(channels, outChannels, (kh, kw), (sh, sw), (ph, pw));
        var x = randn([2, channels, h, w], generator: generator).requires_grad_();
        var a = randn([rank, channels, kh, kw], generator: generator).requires_grad_();
        var b = randn([outChannels, rank, 1, 1], generator: generator).requires_grad_();
        // The base layer from the case's generator too (libtorch's default bound, 1/√fan_in): nn.Conv2d draws its own
        // from the process-wide generator, which tests on other threads draw from as well, so the case changed from
        // run to run, and with it the float32 rounding its comparisons allow for.
        double bound = 1 / Math.Sqrt(channels * kh * kw);
        using (no_grad())
        {
            conv.weight.uniform_(-bound, bound, generator);
            conv.bias!.uniform_(-bound, bound, generator);
        }
        return new LoraConvCase(conv, LayerGeometry.Of(conv, "conv"), x, a, b, generator);
    }

    /// <summary>PEFT's branch with libtorch's convolutions: <c>lora_B(lora_A(x))·scaling</c>.</summary>
    public Tensor Branch() =>
        nn.functional.conv2d(nn.functional.conv2d(X, A, null, Geometry.Stride, Geometry.Padding), B).Mul(Scaling);

    /// <summary>The base convolution (frozen weight) with libtorch's conv2d.</summary>
    public Tensor Base() => nn.functional.conv2d(X, Conv.weight.detach(), Conv.bias!.detach(), Geometry.Stride, Geometry.Padding);

    /// <summary>
    /// <paramref name="actual"/> equals <paramref name="expected"/> in value and in the gradients of x, lora_A and
    /// lora_B for one random upstream gradient.
    /// </summary>
    public void AssertMatches(Tensor expected, Tensor actual) => TensorAssert.CloseWithLoraGradients(expected, actual, (X, A, B), Generator);
}
