using System.Diagnostics;
using Peft.Typed.Benchmarks.Flops;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Timing;

/// <summary>The medians the hand-timed benchmarks report (the ones BenchmarkDotNet cannot run: see each benchmark).</summary>
internal static class Timings
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0) throw new ArgumentException("No values to take the median of.", nameof(values));
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>Median wall time of <paramref name="runs"/> calls of <paramref name="call"/> after one warm-up call, in milliseconds.</summary>
    public static double MedianMilliseconds(Action call, int runs)
    {
        call();
        return Median(Enumerable.Range(0, runs).Select(_ =>
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }).ToList());
    }

    /// <summary>GFLOP/s of one product <paramref name="a"/>·<paramref name="b"/> (its result freed inside the timing).</summary>
    public static double MatmulGflops(Tensor a, Tensor b)
    {
        long t0 = Stopwatch.GetTimestamp();
        a.matmul(b).Dispose();
        return FlopFormulas.MatMul(a.shape[0], a.shape[1], b.shape[1]) / Stopwatch.GetElapsedTime(t0).TotalSeconds / 1e9;
    }
}
