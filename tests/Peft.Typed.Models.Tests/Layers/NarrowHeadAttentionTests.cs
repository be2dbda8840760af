using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Tests.Support;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Layers;

/// <summary>
/// NarrowHeadAttention against libtorch's scaled_dot_product_attention run in float64 on the same float32 inputs: output
/// and the gradients of q, k and v, on shapes that leave partial query blocks (64 rows), partial row groups (4), several
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
    };

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

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void Output_and_gradients_equal_scaled_dot_product_attention_in_float64(int batch, int heads, int n, int m, int d)
    {
        Skip.IfNot(NarrowHeadAttentionKernels.Supported, "needs AVX2 and FMA");
        using var scope = NewDisposeScope();
        var (q, k, v, g) = Inputs(batch, heads, n, m, d);
        var (q32, k32, v32) = (q.clone().requires_grad_(), k.clone().requires_grad_(), v.clone().requires_grad_());
        Assert.True(NarrowHeadAttention.Handles(q32, k32, v32));
        var output = NarrowHeadAttention.Apply(q32, k32, v32);
        output.backward([g]);

        var (q64, k64, v64) = (Double(q), Double(k), Double(v));
        var expected = nn.functional.scaled_dot_product_attention(q64, k64, v64);
        expected.backward([g.to_type(ScalarType.Float64)]);

        // float32 sums over at most a few hundred terms: a few 1e-7 of the largest value (libtorch's own float32
        // kernel reads 0.4–1.5e-6 of it at 4,096 tokens); a wrong scale, mask or block edge reads 1e-2 and more.
        Close(expected, output, "output");
        Close(q64.grad!, q32.grad!, "dq");
        Close(k64.grad!, k32.grad!, "dk");
        Close(v64.grad!, v32.grad!, "dv");
    }

    [SkippableFact]
    public unsafe void Results_do_not_depend_on_the_thread_count()
    {
        Skip.IfNot(NarrowHeadAttentionKernels.Supported, "needs AVX2 and FMA");
        using var scope = NewDisposeScope();
        const int batch = 2, heads = 3, n = 131, m = 129, d = 16;
        var (q, k, v, g) = Inputs(batch, heads, n, m, d);
        Tensor[] Run(int threads)
        {
            var (o, lse, dq, dk, dv) = (empty_like(q), empty(batch, heads, n), empty_like(q), empty_like(k), empty_like(v));
            fixed (byte* qp = q.bytes, kp = k.bytes, vp = v.bytes, gp = g.bytes, op = o.bytes, lp = lse.bytes, dqp = dq.bytes, dkp = dk.bytes, dvp = dv.bytes)
            {
                var scale = 1f / MathF.Sqrt(d);
                NarrowHeadAttentionKernels.Forward((float*)qp, (float*)kp, (float*)vp, (float*)op, (float*)lp, batch * heads, n, m, d, scale, threads);
                NarrowHeadAttentionKernels.Backward((float*)qp, (float*)kp, (float*)vp, (float*)op, (float*)lp, (float*)gp,
                    (float*)dqp, (float*)dkp, (float*)dvp, batch * heads, n, m, d, scale, threads);
            }
            return [o, lse, dq, dk, dv];
        }
        var one = Run(1);
        var three = Run(3);
        for (int i = 0; i < one.Length; i++) Assert.True(one[i].bytes.SequenceEqual(three[i].bytes), $"result {i} differs between 1 and 3 threads");
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
        Assert.True(NarrowHeadAttention.Handles(T(NarrowHeadAttention.MaxHeadDim), T(NarrowHeadAttention.MaxHeadDim), T(NarrowHeadAttention.MaxHeadDim)));
        Assert.False(NarrowHeadAttention.Handles(T(NarrowHeadAttention.MaxHeadDim + 8), T(NarrowHeadAttention.MaxHeadDim + 8), T(NarrowHeadAttention.MaxHeadDim + 8)));
        Assert.False(NarrowHeadAttention.Handles(T(12), T(12), T(12)));
        Assert.False(NarrowHeadAttention.Handles(T(16, type: ScalarType.Float64), T(16, type: ScalarType.Float64), T(16, type: ScalarType.Float64)));
        Assert.False(NarrowHeadAttention.Handles(T(16), T(16, 10), T(16, 11)));
        Assert.False(NarrowHeadAttention.Handles(T(16), T(16, 0), T(16, 0)));
    }

    private static Tensor Double(Tensor x) => x.to_type(ScalarType.Float64).requires_grad_();

    private static void Close(Tensor expected, Tensor actual, string what) =>
        Compare.Close(expected, actual, 2e-6 * expected.abs().max().item<double>(), what: what);
}
