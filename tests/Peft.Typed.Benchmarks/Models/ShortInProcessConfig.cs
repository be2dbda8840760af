using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Peft.Typed.Benchmarks.Models;

/// <summary>
/// A short in-process job (2 warm-up and 5 measured iterations of about 250 ms): the machine is shared with other work,
/// and in-process runs use the native TorchSharp libraries of this build. Adds the GFLOP/s columns.
/// </summary>
public sealed class ShortInProcessConfig : ManualConfig
{
    public ShortInProcessConfig()
    {
        AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(2)
            .WithIterationCount(5)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250))
            .WithId("ShortInProcess"));
        AddColumn(new FlopsColumn(FlopsColumn.Kind.GflopsPerSecond), new FlopsColumn(FlopsColumn.Kind.FractionOfCeiling), new FlopsColumn(FlopsColumn.Kind.GflopPerCall));
    }
}
