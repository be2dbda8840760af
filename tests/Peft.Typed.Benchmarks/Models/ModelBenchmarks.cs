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

    [Benchmark]
    public void ClipTextEncode()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _workloads.ClipForward();
    }
}
