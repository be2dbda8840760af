using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Models;

/// <summary>
/// libtorch's scaled_dot_product_attention forward and backward on 4,096 tokens and 8 heads, fed the transposed view of
/// the projections ("strided") or its contiguous copy, copies and their backward included: why the UNet's Attention
/// makes its heads contiguous.
/// </summary>
[Config(typeof(ShortInProcessConfig))]
public class AttentionLayoutBenchmarks
{
    private ModelWorkloads.AttentionInput _input = null!;

    [Params(16, 40)]
    public int HeadSize { get; set; }

    [Params("strided", "contiguous")]
    public string Layout { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        using var generator = new Generator(2026);
        _input = new ModelWorkloads.AttentionInput(HeadSize, Layout == "contiguous", generator);
    }

    [Benchmark]
    public void ForwardBackward()
    {
        using var scope = NewDisposeScope();
        _input.ForwardBackward();
    }

    [GlobalCleanup]
    public void Cleanup() => _input.Dispose();
}
