using BenchmarkDotNet.Attributes;
using Peft.Typed.Models.Layers;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Models;

/// <summary>
/// Self-attention of 4,096 tokens and 8 heads (SD 1.5's first level at 512×512 pixels) by libtorch's
/// scaled_dot_product_attention and by NarrowHeadAttention (at the vector width this machine gives it), forward alone
/// (inference) and forward + backward (training), head copies included: which head widths the UNet's Attention hands to
/// NarrowHeadAttention.
/// </summary>
[Config(typeof(ShortInProcessConfig))]
public class NarrowHeadAttentionBenchmarks
{
    private ModelWorkloads.AttentionInput _input = null!;

    [Params(8, 16, 24, 32, 40, 64, 80, 160)]
    public int HeadSize { get; set; }

    [Params("libtorch", "narrow-head")]
    public string Kernel { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        using var generator = new Generator(2026);
        _input = new ModelWorkloads.AttentionInput(HeadSize, contiguousHeads: true, generator,
            Kernel == "narrow-head" ? NarrowHeadAttention.Apply : null);
    }

    [Benchmark]
    public void Forward()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _input.Forward();
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
