using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Adapters;

/// <summary>Inference (no grad) of one adapted layer, rank 8, with the adapter merged into the weight or applied on the side.</summary>
[Config(typeof(Config))]
public class AdapterInferenceBenchmarks
{
    private AdaptedLayer _model = null!;
    private Tensor _input = null!;

    [Params("linear-768", "conv-320-3x3")]
    public string Layer { get; set; } = "";

    [Params("lora", "loha", "lokr")]
    public string Kind { get; set; } = "";

    [Params(false, true)]
    public bool Merged { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // One libtorch thread: on a shared 2-core VM, OpenMP threads spinning against other processes made
        // 2-thread timings 10x slower and noisy.
        set_num_threads(1);
        manual_seed(0);
        var inner = Layer == "linear-768" ? (nn.Module<Tensor, Tensor>)nn.Linear(768, 768) : nn.Conv2d(320, 320, 3, padding: 1);
        _model = new AdaptedLayer(inner, Kind, rank: 8);
        _model.eval();
        if (Merged) _model.Peft!.MergeAdapter();
        _input = Layer == "linear-768" ? randn(2, 77, 768) : randn(2, 320, 64, 64);
    }

    [Benchmark]
    public void Forward()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _model.Run(_input);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _model.Dispose();
        _input.Dispose();
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(10));
    }
}
