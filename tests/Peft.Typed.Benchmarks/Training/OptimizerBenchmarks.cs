using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Unet;
using Peft.Typed.Training.Optimization;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Training;

/// <summary>
/// One AdamW update of the LoRA parameters (r=8, comprehensive targets) of the step profile's tiny and mid UNets:
/// <see cref="AdamW.Step"/>, which updates chunks of concatenated parameters, against the same update written per
/// parameter (the baseline: the same nine elementwise calls on each parameter and its own moment tensors, as AdamW ran
/// before), and one <see cref="Prodigy"/> step, which runs on the same chunks. The gradients are fixed random tensors;
/// libtorch's threads are its default, as the trainer's on a quiet machine.
/// </summary>
[Config(typeof(Config))]
public class OptimizerBenchmarks
{
    private const double Beta1 = 0.9, Beta2 = 0.999, WeightDecay = 1e-2, Epsilon = 1e-8, LearningRate = 1e-4;

    private UNet2DConditionModel _unet = null!;
    private List<(string Name, TorchSharp.Modules.Parameter Parameter)> _parameters = null!;
    private List<(Tensor ExpAvg, Tensor ExpAvgSq)> _moments = null!;
    private AdamW _optimizer = null!;
    private Prodigy _prodigy = null!;
    private long _steps;

    [Params("tiny", "mid")]
    public string Model { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        TorchRuntime.RetainFreedMemory();
        manual_seed(0);
        _unet = new UNet2DConditionModel(TrainingStepProfile.Config(Model));
        PeftModel.Create(_unet, new LoraConfig { R = 8, LoraAlpha = 8, TargetModules = TargetModules.FromNames(SeedTargetLists.UnetComprehensive) });
        _parameters = _unet.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList();
        foreach (var (_, p) in _parameters) p.grad = randn_like(p);
        _moments = _parameters.Select(p => (zeros_like(p.Parameter), zeros_like(p.Parameter))).ToList();
        _optimizer = new AdamW(_parameters, Beta1, Beta2, WeightDecay, Epsilon);
        _prodigy = new Prodigy(_parameters);
        Console.WriteLine($"// {Model}: {_parameters.Count} LoRA tensors, {_parameters.Sum(p => p.Parameter.numel()):N0} parameters");
    }

    [Benchmark(Baseline = true)]
    public void PerParameter()
    {
        _steps++;
        double bias1 = 1 - Math.Pow(Beta1, _steps), bias2 = 1 - Math.Pow(Beta2, _steps);
        using var noGrad = no_grad();
        for (int i = 0; i < _parameters.Count; i++)
        {
            using var scope = NewDisposeScope();
            var p = _parameters[i].Parameter;
            var grad = p.grad!;
            var (expAvg, expAvgSq) = _moments[i];
            p.MulInPlace(1 - LearningRate * WeightDecay);
            expAvg.MulInPlace(Beta1).AddInPlace(grad, alpha: 1 - Beta1);
            expAvgSq.MulInPlace(Beta2).AddcmulInPlace(grad, grad, value: 1 - Beta2);
            var denominator = expAvgSq.sqrt().Div(Math.Sqrt(bias2)).AddInPlace(Epsilon);
            p.AddcdivInPlace(expAvg, denominator, value: -LearningRate / bias1);
        }
    }

    [Benchmark]
    public void Chunked() => _optimizer.Step(LearningRate);

    [Benchmark]
    public void ProdigyChunked() => _prodigy.Step(1.0);

    [GlobalCleanup]
    public void Cleanup()
    {
        _optimizer.Dispose();
        _prodigy.Dispose();
        foreach (var (m, v) in _moments)
        {
            m.Dispose();
            v.Dispose();
        }
        _unet.Dispose();
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(15));
    }
}
