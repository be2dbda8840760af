using BenchmarkDotNet.Attributes;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Models;

/// <summary>
/// Tiny-model forward and forward+backward times beside the machine's float32 matmul ceiling, measured in the same run
/// so that the achieved fraction of the ceiling is meaningful (see <see cref="FlopsColumn"/>, docs/perf.md).
/// </summary>
[Config(typeof(ShortInProcessConfig))]
public class ModelBenchmarks
{
    private ModelWorkloads _workloads = null!;

    [GlobalSetup]
    public void Setup() => _workloads = ModelWorkloads.Create();

    [GlobalCleanup]
    public void Cleanup() => _workloads.Dispose();

    /// <summary>The ceiling: one 2048×2048 × 2048×2048 float32 product (17.2 GFLOP).</summary>
    [Benchmark]
    public void MatMul2048()
    {
        using var product = _workloads.MatrixA.matmul(_workloads.MatrixB);
    }

    [Benchmark]
    public void UnetForward()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _workloads.UnetForward();
    }

    /// <summary>Forward, a mean-square loss, backward into every parameter's gradient (as a full fine-tune would).</summary>
    [Benchmark]
    public void UnetForwardBackward()
    {
        using var scope = NewDisposeScope();
        _workloads.UnetForward().Pow(2).mean().backward();
        _workloads.Unet.zero_grad();
    }

    /// <summary>
    /// libtorch's scaled_dot_product_attention forward and backward on 4,096 tokens, 8 heads of 16 (the training
    /// profile's mid UNet at its 64×64 level), and of 40 (SD 1.5's): the attention core of a training step.
    /// </summary>
    [Benchmark]
    public void MidSelfAttentionForwardBackward()
    {
        using var scope = NewDisposeScope();
        _workloads.MidAttention.ForwardBackward();
    }

    [Benchmark]
    public void Sd15SelfAttentionForwardBackward()
    {
        using var scope = NewDisposeScope();
        _workloads.Sd15Attention.ForwardBackward();
    }

    [Benchmark]
    public void ClipTextEncode()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _workloads.ClipForward();
    }
}
