using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Tests.Support;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Layers;

/// <summary>
/// NarrowHeadAttention and its kernels at both vector widths against libtorch's scaled_dot_product_attention run in
/// float64 on the same float32 inputs: output and the gradients of q, k and v, on shapes that leave partial query blocks (64 rows), partial row groups (4), several
/// key blocks with a partial last one (forward 1,024 keys, backward 256) and key counts that are not a multiple of 16.
/// </summary>
public class NarrowHeadAttentionTests
{
    public static TheoryData<int, int, int, int, int> Shapes => new()
    {
        // batch, heads, queries, keys, head width
        { 1, 2, 70, 70, 16 },
        { 2, 3, 130, 77, 8 },
        { 1, 1, 3, 300, 16 },
        { 1, 2, 131, 129, 16 },
        { 1, 1, 67, 1100, 8 },
        { 2, 1, 20, 300, 24 },
        { 1, 2, 65, 90, 40 },
        { 1, 1, 33, 65, 160 },
    };

    /// <summary>The shapes at each vector width, in bits.</summary>
    public static TheoryData<int, int, int, int, int, int> ShapesAndWidths
    {
        get
        {
            var data = new TheoryData<int, int, int, int, int, int>();
            foreach (var width in (int[])[256, 512])
                foreach (var row in Shapes)
                {
                    var (batch, heads, n, m, d) = ((int)row[0], (int)row[1], (int)row[2], (int)row[3], (int)row[4]);
                    data.Add(batch, heads, n, m, d, width);
                }
            return data;
        }
    }

    private static (Tensor Q, Tensor K, Tensor V, Tensor G) Inputs(int batch, int heads, int n, int m, int d)
    {
        var generator = new Generator(11);
        // Scores of a few units make each row's softmax peaked, so the running maximum moves between key blocks.
        var q = randn([batch, heads, n, d], generator: generator).Mul(2);
        var k = randn([batch, heads, m, d], generator: generator).Mul(2);
        var v = randn([batch, heads, m, d], generator: generator);
        var g = randn([batch, heads, n, d], generator: generator);
        return (q, k, v, g);
    }

    /// <summary>The node the UNet's Attention calls, at the vector width this machine gives it.</summary>
    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void Output_and_gradients_equal_scaled_dot_product_attention_in_float64(int batch, int heads, int n, int m, int d)
    {
        Skip.IfNot(NarrowHeadAttentionKernels.Supported, "needs AVX2 and FMA");
        Skip.IfNot(d <= NarrowHeadAttention.MaxHeadDim, $"this machine's kernels take heads up to {NarrowHeadAttention.MaxHeadDim} wide");
        using var scope = NewDisposeScope();
        var (q, k, v, g) = Inputs(batch, heads, n, m, d);
        var (q32, k32, v32) = (q.clone().requires_grad_(), k.clone().requires_grad_(), v.clone().requires_grad_());
        Assert.True(NarrowHeadAttention.Handles(q32, k32, v32));
        var output = NarrowHeadAttention.Apply(q32, k32, v32);
        output.backward([g]);
        AssertEqualsReference(q, k, v, g, output, q32.grad!, k32.grad!, v32.grad!);
    }

    /// <summary>Both kernel widths, whichever the node would pick here.</summary>
    [SkippableTheory]
    [MemberData(nameof(ShapesAndWidths))]
    public void Each_vector_width_equals_scaled_dot_product_attention_in_float64(int batch, int heads, int n, int m, int d, int bits)
    {
        var width = WidthOrSkip(bits);
        using var scope = NewDisposeScope();
        var (q, k, v, g) = Inputs(batch, heads, n, m, d);
        var results = RunKernels(q, k, v, g, threads: 2, width);
        AssertEqualsReference(q, k, v, g, results[0], results[2], results[3], results[4]);
    }

    /// <summary>
    /// Scores of several hundred, beyond exp's float32 range (88): only the running maximum of each row keeps them
    /// finite, so a maximum taken over part of a row overflows here.
    /// </summary>
    [SkippableTheory]
    [InlineData(16, 256)]
    [InlineData(16, 512)]
    [InlineData(40, 256)]
    [InlineData(40, 512)]
    public void Scores_beyond_exps_range_equal_the_reference(int d, int bits)
    {
        var width = WidthOrSkip(bits);
        using var scope = NewDisposeScope();
        var (q, k, v, g) = Inputs(1, 2, 70, 300, d);
        q = q.Mul(40);
        var results = RunKernels(q, k, v, g, threads: 2, width);
        var scores = q.matmul(k.transpose(2, 3)).Div(Math.Sqrt(d));
        Assert.True(scores.abs().max().item<float>() > 200, "the case needs scores beyond exp's range");

        // Scores this large carry float32 rounding of ~1e-5 into every probability, so the bound is libtorch's own
        // float32 kernel on the same inputs: within twice its distance from float64 (or 1e-5 of the largest value).
        var reference = Reference(q, k, v, g);
        var (q32, k32, v32) = (q.clone().requires_grad_(), k.clone().requires_grad_(), v.clone().requires_grad_());
        var libtorch = nn.functional.scaled_dot_product_attention(q32, k32, v32);
        libtorch.backward([g]);
        Tensor[] ours = [results[0], results[2], results[3], results[4]], theirs = [libtorch, q32.grad!, k32.grad!, v32.grad!];
        string[] names = ["output", "dq", "dk", "dv"];
        for (int i = 0; i < 4; i++)
        {
            var libtorchError = (theirs[i].to_type(ScalarType.Float64) - reference[i]).abs().max().item<double>();
            var bound = Math.Max(2 * libtorchError, 1e-5 * reference[i].abs().max().item<double>());
            Compare.Close(reference[i], ours[i], bound, what: $"{names[i]} (libtorch float32 {libtorchError:E2})");
        }
    }

    /// <summary>Output, dq, dk and dv of libtorch's scaled_dot_product_attention in float64.</summary>
    private static Tensor[] Reference(Tensor q, Tensor k, Tensor v, Tensor g)
    {
        var (q64, k64, v64) = (Double(q), Double(k), Double(v));
        var expected = nn.functional.scaled_dot_product_attention(q64, k64, v64);
        expected.backward([g.to_type(ScalarType.Float64)]);
        return [expected, q64.grad!, k64.grad!, v64.grad!];
    }

    private static void AssertEqualsReference(Tensor q, Tensor k, Tensor v, Tensor g, Tensor output, Tensor dq, Tensor dk, Tensor dv)
    {
        var reference = Reference(q, k, v, g);
        // float32 sums of up to a thousand terms: libtorch's own float32 kernel reads up to 8.6e-6 of the largest value
        // on these shapes (10 seeds; 4e-6 at 8 wide and 1,100 keys, 8.6e-6 at 160 wide); a wrong scale, rescaling or
        // block edge reads 1e-3 and more.
        Close(reference[0], output, "output");
        Close(reference[1], dq, "dq");
        Close(reference[2], dk, "dk");
        Close(reference[3], dv, "dv");
    }

    /// <summary>Output, log-sum-exp, dq, dk and dv from the kernels at a given thread count and vector width.</summary>
    private static Tensor[] RunKernels(Tensor q, Tensor k, Tensor v, Tensor g, int threads, NarrowHeadAttentionKernels.VectorWidth width)
    {
        var (o, lse) = NarrowHeadAttention.Forward(q, k, v, threads, width);
        var (dq, dk, dv) = NarrowHeadAttention.Backward(q, k, v, o, lse, g, threads, width);
        return [o, lse, dq, dk, dv];
    }

    /// <summary>The kernel width of <paramref name="bits"/>, or a skip where this CPU lacks it.</summary>
    private static NarrowHeadAttentionKernels.VectorWidth WidthOrSkip(int bits)
    {
        Skip.IfNot(NarrowHeadAttentionKernels.Supported, "needs AVX2 and FMA");
        Skip.If(bits == 512 && !NarrowHeadAttentionKernels.WideSupported, "needs AVX-512");
        return bits == 512 ? NarrowHeadAttentionKernels.VectorWidth.Bits512 : NarrowHeadAttentionKernels.VectorWidth.Bits256;
    }

    [SkippableFact]
    public void Results_do_not_depend_on_the_thread_count()
    {
        Skip.IfNot(NarrowHeadAttentionKernels.Supported, "needs AVX2 and FMA");
        using var scope = NewDisposeScope();
        var (q, k, v, g) = Inputs(2, 3, 131, 129, 16);
        var width = NarrowHeadAttentionKernels.WidthFor(16);
        var one = RunKernels(q, k, v, g, threads: 1, width);
        var three = RunKernels(q, k, v, g, threads: 3, width);
        for (int i = 0; i < one.Length; i++) Assert.True(one[i].bytes.SequenceEqual(three[i].bytes), $"result {i} differs between 1 and 3 threads");
    }

    [SkippableFact]
    public void Without_gradients_the_output_is_the_same_and_records_no_graph()
    {
        Skip.IfNot(NarrowHeadAttentionKernels.Supported, "needs AVX2 and FMA");
        using var scope = NewDisposeScope();
        var (q, k, v, _) = Inputs(1, 2, 70, 70, 16);
        var (q32, k32, v32) = (q.clone().requires_grad_(), k.clone().requires_grad_(), v.clone().requires_grad_());
        var recorded = NarrowHeadAttention.Apply(q32, k32, v32);
        Tensor inference;
        using (no_grad()) inference = NarrowHeadAttention.Apply(q32, k32, v32);
        Assert.True(recorded.requires_grad);
        Assert.False(inference.requires_grad);
        Assert.True(recorded.detach().bytes.SequenceEqual(inference.bytes));
    }

    [SkippableFact]
    public void Gradients_reach_the_inputs_that_take_them_when_others_do_not()
    {
        Skip.IfNot(NarrowHeadAttentionKernels.Supported, "needs AVX2 and FMA");
        using var scope = NewDisposeScope();
        var (q, k, v, g) = Inputs(1, 2, 70, 77, 16);
        var reference = Reference(q, k, v, g);
        var (q32, v32) = (q.clone().requires_grad_(), v.clone().requires_grad_());
        NarrowHeadAttention.Apply(q32, k, v32).backward([g]);
        Assert.Null(k.grad);
        Close(reference[1], q32.grad!, "dq");
        Close(reference[3], v32.grad!, "dv");
    }

    [SkippableFact]
    public void A_NaN_in_a_query_reaches_only_its_own_output_row()
    {
        Skip.IfNot(NarrowHeadAttentionKernels.Supported, "needs AVX2 and FMA");
        using var scope = NewDisposeScope();
        var (q, k, v, _) = Inputs(1, 1, 9, 20, 8);
        q[0, 0, 5, 3].FillInPlace(double.NaN);
        var output = NarrowHeadAttention.Apply(q, k, v);
        var nanRows = output.isnan().any(-1).flatten();
        Assert.Equal([false, false, false, false, false, true, false, false, false], nanRows.data<bool>().ToArray());
    }

    [SkippableFact]
    public void Takes_float32_cpu_heads_a_multiple_of_8_and_at_most_MaxHeadDim_wide()
    {
        Skip.IfNot(NarrowHeadAttentionKernels.Supported, "needs AVX2 and FMA");
        using var scope = NewDisposeScope();
        Tensor T(long d, long m = 10, ScalarType type = ScalarType.Float32) => zeros([1, 2, m, d], type);
        Assert.True(NarrowHeadAttention.Handles(T(8), T(8, 7), T(8, 7)));
        Assert.True(NarrowHeadAttention.Handles(T(16), T(16), T(16)));
        Assert.True(NarrowHeadAttention.Handles(T(NarrowHeadAttention.MaxHeadDim), T(NarrowHeadAttention.MaxHeadDim), T(NarrowHeadAttention.MaxHeadDim)));
        Assert.False(NarrowHeadAttention.Handles(T(NarrowHeadAttention.MaxHeadDim + 8), T(NarrowHeadAttention.MaxHeadDim + 8), T(NarrowHeadAttention.MaxHeadDim + 8)));
        Assert.False(NarrowHeadAttention.Handles(T(12), T(12), T(12)));
        Assert.False(NarrowHeadAttention.Handles(T(16, type: ScalarType.Float64), T(16, type: ScalarType.Float64), T(16, type: ScalarType.Float64)));
        Assert.False(NarrowHeadAttention.Handles(T(16), T(16, 10), T(16, 11)));
        Assert.False(NarrowHeadAttention.Handles(T(16), T(16, 0), T(16, 0)));
    }

    private static Tensor Double(Tensor x) => x.to_type(ScalarType.Float64).requires_grad_();

    private static void Close(Tensor expected, Tensor actual, string what) =>
        Compare.Close(expected, actual, 1e-5 * expected.abs().max().item<double>(), what: what);
}
