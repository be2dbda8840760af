using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters;

/// <summary>
/// The merged LoRA convolution's kernels (lora_A's output, both factors' gradients) and the merge kernel against
/// libtorch's conv2d, autograd and products in float64, on shapes that split rows into several bands, end rows on a
/// partial vector, leave rank channels past r in the last block of 8, and pair an odd last input channel with itself.
/// </summary>
public class LoraKernelsTests
{
    // Largest |float32 kernel − float64 reference| allowed, as a fraction of the reference's largest magnitude: the
    // sums run over c·kh·kw (forward) or n·H·W (gradients) float32 terms.
    private const double Bound = 2e-6;

    /// <summary>n, c, o, H, W, r, kh, kw.</summary>
    public static TheoryData<int, int, int, int, int, int, int, int> Shapes => new()
    {
        { 2, 5, 7, 20, 13, 3, 3, 3 }, // W = 13: a partial vector per row; 19 rows per band: two bands
        { 1, 16, 9, 24, 24, 12, 3, 3 }, // two blocks of 8 rank channels; bands of 10, 10 and 4 rows
        { 2, 6, 4, 9, 64, 8, 1, 1 }, // 1×1; a copied row of 64 floats is padded to 72
        { 1, 3, 5, 11, 17, 4, 5, 3 }, // a 5×3 kernel: two rows and one column of padding
        { 1, 32, 16, 64, 64, 8, 3, 3 }, // a UNet's first level: bands of 4 rows
        { 3, 4, 6, 1, 300, 2, 3, 3 }, // one row wider than a band
    };

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void Down_equals_conv2d_in_float64(int n, int c, int o, int h, int w, int r, int kh, int kw)
    {
        Skip.IfNot(LoraVectors.Supported, "needs AVX2 and FMA");
        using var scope = NewDisposeScope();
        var (x, a, _, _) = Case(n, c, o, h, w, r, kh, kw);
        var z = LoraConvKernels.Down(x, a);
        var expected = nn.functional.conv2d(x.to_type(ScalarType.Float64), a.to_type(ScalarType.Float64), padding: [kh / 2, kw / 2]);
        Assert.Equal(new long[] { n, LoraConvKernels.PaddedRank(r), h, w }, z.shape);
        AssertClose(expected, z.narrow(1, 0, r), "z");
        Assert.Equal(0.0, z.narrow(1, r, z.shape[1] - r).abs().sum().item<float>());
    }

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void FactorGrads_equal_autograd_in_float64(int n, int c, int o, int h, int w, int r, int kh, int kw)
    {
        Skip.IfNot(LoraVectors.Supported, "needs AVX2 and FMA");
        using var scope = NewDisposeScope();
        const double scaling = 0.75;
        var (x, a, b, g) = Case(n, c, o, h, w, r, kh, kw);
        var z = LoraConvKernels.Down(x, a);
        var (gradA, gradB) = LoraConvKernels.FactorGrads(x, z, a, b, scaling, g);

        var a64 = a.to_type(ScalarType.Float64).requires_grad_();
        var b64 = b.to_type(ScalarType.Float64).requires_grad_();
        var branch = nn.functional.conv2d(nn.functional.conv2d(x.to_type(ScalarType.Float64), a64, padding: [kh / 2, kw / 2]), b64).Mul(scaling);
        branch.backward([g.to_type(ScalarType.Float64)]);
        AssertClose(a64.grad!, gradA, "gradient of lora_A");
        AssertClose(b64.grad!, gradB, "gradient of lora_B");
    }

    [SkippableFact]
    public void Results_do_not_depend_on_the_thread_count()
    {
        Skip.IfNot(LoraVectors.Supported, "needs AVX2 and FMA");
        using var scope = NewDisposeScope();
        var (x, a, b, g) = Case(2, 16, 9, 24, 24, 12, 3, 3);
        var z1 = LoraConvKernels.Down(x, a, threads: 1);
        var z3 = LoraConvKernels.Down(x, a, threads: 3);
        var (gradA1, gradB1) = LoraConvKernels.FactorGrads(x, z1, a, b, 0.5, g, threads: 1);
        var (gradA3, gradB3) = LoraConvKernels.FactorGrads(x, z1, a, b, 0.5, g, threads: 3);
        Assert.True(z1.eq(z3).all().item<bool>(), "z");
        Assert.True(gradA1.eq(gradA3).all().item<bool>(), "gradient of lora_A");
        Assert.True(gradB1.eq(gradB3).all().item<bool>(), "gradient of lora_B");
    }

    /// <summary>rows, in, out, r: partial vectors in both widths, an odd last row, several chunks of rows, two rank blocks.</summary>
    [SkippableTheory]
    [InlineData(7, 13, 11, 3)]
    [InlineData(600, 24, 40, 8)]
    [InlineData(257, 64, 16, 12)]
    public void Linear_FactorGrads_equal_autograd_in_float64(int rows, int inFeatures, int outFeatures, int r)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(9);
        var x = randn([rows, inFeatures], generator: generator);
        var a = randn([r, inFeatures], generator: generator);
        var b = randn([outFeatures, r], generator: generator);
        var g = randn([rows, outFeatures], generator: generator);
        Skip.IfNot(LoraLinearKernels.Handles(x), "needs AVX2 and FMA");
        const double scaling = 0.75;
        var (gradA, gradB) = LoraLinearKernels.FactorGrads(x, x.matmul(a.t()), b, scaling, g);
        var (gradA3, gradB3) = LoraLinearKernels.FactorGrads(x, x.matmul(a.t()), b, scaling, g, threads: 3);

        var a64 = a.to_type(ScalarType.Float64).requires_grad_();
        var b64 = b.to_type(ScalarType.Float64).requires_grad_();
        x.to_type(ScalarType.Float64).matmul(a64.t()).matmul(b64.t()).Mul(scaling).backward([g.to_type(ScalarType.Float64)]);
        AssertClose(a64.grad!, gradA, "gradient of lora_A");
        AssertClose(b64.grad!, gradB, "gradient of lora_B");
        Assert.True(gradA.eq(gradA3).all().item<bool>() && gradB.eq(gradB3).all().item<bool>(), "1 and 3 threads");
    }

    [Theory]
    [InlineData(new long[] { 7, 5, 3, 3 }, 3)] // a convolution: 45 elements per row, a partial vector
    [InlineData(new long[] { 40, 24 }, 8)] // a Linear layer
    [InlineData(new long[] { 9, 13 }, 1)]
    public void Merge_equals_weight_plus_scaled_product_in_float64(long[] shape, int r)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        var weight = randn(shape, generator: generator);
        var a = randn([r, .. shape[1..]], generator: generator);
        var b = randn(shape.Length == 4 ? [shape[0], r, 1, 1] : [shape[0], r], generator: generator);
        Skip.IfNot(LoraMergeKernel.Handles(weight, a, b), "needs AVX2 and FMA");
        const double scaling = 1.5;
        var merged = LoraMergeKernel.Merge(weight, a, b, scaling);
        var expected = weight.to_type(ScalarType.Float64).Add(
            b.to_type(ScalarType.Float64).reshape(shape[0], r).matmul(a.to_type(ScalarType.Float64).reshape(r, -1)).Mul(scaling).view(shape));
        AssertClose(expected, merged, "merged weight");
    }

    [Theory]
    [InlineData(3, 1, 1, true)]
    [InlineData(1, 1, 0, true)]
    [InlineData(5, 1, 2, true)]
    [InlineData(3, 2, 1, false)] // stride 2: the output is smaller than the input
    [InlineData(3, 1, 0, false)] // no padding: "valid", not "same"
    [InlineData(4, 1, 2, false)] // an even kernel
    public void Handles_odd_kernels_with_same_padding_and_stride_1(int kernel, int stride, int padding, bool expected)
    {
        Skip.IfNot(LoraVectors.Supported, "needs AVX2 and FMA");
        using var scope = NewDisposeScope();
        using var conv = nn.Conv2d(4, 4, kernel, stride: stride, padding: padding);
        var geometry = LayerGeometry.Of(conv, "conv");
        Assert.Equal(expected, LoraConvKernels.Handles(geometry, empty(1, 4, 8, 8)));
        Assert.False(LoraConvKernels.Handles(geometry, empty([1, 4, 8, 8], ScalarType.Float64)), "float64");
    }

    private static (Tensor X, Tensor A, Tensor B, Tensor G) Case(int n, int c, int o, int h, int w, int r, int kh, int kw)
    {
        var generator = new Generator(5);
        return (randn([n, c, h, w], generator: generator), randn([r, c, kh, kw], generator: generator),
            randn([o, r, 1, 1], generator: generator), randn([n, o, h, w], generator: generator));
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape), $"{what}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}].");
        double scale = expected.abs().max().item<double>();
        double error = (actual.to_type(ScalarType.Float64) - expected).abs().max().item<double>();
        Assert.True(error <= Bound * scale, $"{what}: largest difference {error:E3}, {error / scale:E2} of the largest value (bound {Bound:E1}).");
    }
}
