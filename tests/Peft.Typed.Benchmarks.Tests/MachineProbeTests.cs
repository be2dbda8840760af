using Peft.Typed.Benchmarks.Training;

namespace Peft.Typed.Benchmarks.Tests;

/// <summary>The training profile's machine probe records one compute and one memory rate per run.</summary>
public class MachineProbeTests
{
    [Fact]
    public void Each_run_records_a_matmul_and_a_copy_rate()
    {
        using var probe = new MachineProbe();
        probe.Run();
        probe.Run();

        Assert.Equal(2, probe.MatmulGflops.Count);
        Assert.Equal(2, probe.CopyGigabytesPerSecond.Count);
        Assert.All(probe.MatmulGflops.Concat(probe.CopyGigabytesPerSecond), rate => Assert.True(double.IsFinite(rate) && rate > 0, $"rate {rate}"));
        Assert.Matches(@"^matmul [\d.]+–[\d.]+ GFLOP/s \(median [\d.]+\), copy [\d.]+–[\d.]+ GB/s \(median [\d.]+\)$", probe.Summary());
    }
}
