using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Adapters;

/// <summary>
/// Forward + backward of one wrapped layer, rank 8, vs the unwrapped layer ("none"): Linear 768→768 on 2×77 tokens,
/// Linear 320→2560 on 4096 tokens (the feed-forward input projection at SD 1.5's 64×64 level) and Conv2d 320→320 3×3
/// on 2×320×64×64 (SD 1.5 shapes), and two layers of the embedded default model as README command (1) trains it:
/// Conv2d 32→32 3×3 on 2×32×16×16 (its first level) and Linear 64→64 on 2×64 tokens (its 8×8 attention). The output
/// gradient is a fixed dense tensor, as inside a network (the expanded gradient of a <c>sum()</c> makes libtorch take
/// other, slower paths), and freed memory is retained as the trainer retains it. In-process: the libtorch natives are
/// already loaded here.
/// </summary>
[Config(typeof(Config))]
public class AdapterTrainingStepBenchmarks
{
    private AdaptedLayer _model = null!;
    private Tensor _input = null!;
    private Tensor _outputGradient = null!;

    [Params("linear-768", "linear-320-2560", "conv-320-3x3", "conv-32-3x3", "linear-64")]
    public string Layer { get; set; } = "";

    [Params("none", "lora", "loha", "lokr")]
    public string Kind { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        // One libtorch thread: on a shared 2-core VM, OpenMP threads spinning against other processes made
        // 2-thread timings 10x slower and noisy.
        set_num_threads(1);
        TorchRuntime.RetainFreedMemory();
        manual_seed(0);
        (nn.Module<Tensor, Tensor> inner, Tensor input) = Layer switch
        {
            "linear-768" => ((nn.Module<Tensor, Tensor>)nn.Linear(768, 768), randn(2, 77, 768)),
            "linear-320-2560" => (nn.Linear(320, 2560), randn(1, 4096, 320)),
            "conv-320-3x3" => (nn.Conv2d(320, 320, 3, padding: 1), randn(2, 320, 64, 64)),
            "conv-32-3x3" => (nn.Conv2d(32, 32, 3, padding: 1), randn(2, 32, 16, 16)),
            "linear-64" => (nn.Linear(64, 64), randn(2, 64, 64)),
            _ => throw new ArgumentOutOfRangeException(nameof(Layer), Layer, "not a benchmarked layer"),
        };
        _model = new AdaptedLayer(inner, Kind, rank: 8);
        _input = input.requires_grad_();
        using (no_grad())
        using (var output = _model.Run(_input)) _outputGradient = randn_like(output);
    }

    [Benchmark]
    public void ForwardBackward()
    {
        using var scope = NewDisposeScope();
        _model.Run(_input).backward([_outputGradient]);
        _input.grad?.zero_();
        foreach (var parameter in _model.parameters()) parameter.grad?.zero_();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _model.Dispose();
        _input.Dispose();
        _outputGradient.Dispose();
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(10));
    }
}
