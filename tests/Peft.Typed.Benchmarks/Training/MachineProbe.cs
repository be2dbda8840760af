using System.Diagnostics;
using Peft.Typed.Benchmarks.Models;
using Peft.Typed.Benchmarks.Timing;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Training;

/// <summary>
/// The machine's own speed between training steps (<c>training --probes</c>): one 2048² float32 matmul (compute) and
/// one copy of 32 MB into another buffer (memory), timed after each timed pair of steps. A step that is slow while
/// the probes around it are not is slow for a reason of its own; slow probes say the machine itself was slower then
/// (a VM can be, without reporting steal). Its 96 MB of buffers exist only with the option, so without it the peak
/// memory stays the steps'.
/// </summary>
public sealed class MachineProbe : IDisposable
{
    private const long CopyFloats = 8L << 20;

    private readonly Tensor _a = randn(ModelWorkloads.MatrixSize, ModelWorkloads.MatrixSize);
    private readonly Tensor _b = randn(ModelWorkloads.MatrixSize, ModelWorkloads.MatrixSize);
    private readonly Tensor _source = randn(CopyFloats);
    private readonly Tensor _target = empty(CopyFloats);

    public MachineProbe()
    {
        // First touches (page faults, MKL's buffers) are not the machine's speed.
        Timings.MatmulGflops(_a, _b);
        _target.copy_(_source);
    }

    public List<double> MatmulGflops { get; } = [];
    public List<double> CopyGigabytesPerSecond { get; } = [];

    public void Run()
    {
        MatmulGflops.Add(Timings.MatmulGflops(_a, _b));
        long t0 = Stopwatch.GetTimestamp();
        _target.copy_(_source);
        // Read once and written once.
        CopyGigabytesPerSecond.Add(2.0 * CopyFloats * sizeof(float) / Stopwatch.GetElapsedTime(t0).TotalSeconds / 1e9);
    }

    public string Summary() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"matmul {MatmulGflops.Min():F1}–{MatmulGflops.Max():F1} GFLOP/s (median {Timings.Median(MatmulGflops):F1}), copy {CopyGigabytesPerSecond.Min():F1}–{CopyGigabytesPerSecond.Max():F1} GB/s (median {Timings.Median(CopyGigabytesPerSecond):F1})");

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
        _source.Dispose();
        _target.Dispose();
    }
}
