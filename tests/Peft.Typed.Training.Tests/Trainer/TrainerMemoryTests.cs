using Peft.Typed.Testing;
using Peft.Typed.Training;
using TorchSharp;
using Xunit.Abstractions;

namespace Peft.Typed.Training.Tests.Trainer;

/// <summary>
/// A long run stays flat: between step 40 (optimizer state and caches built) and step 240 neither the managed heap,
/// nor libtorch's native allocations (<see cref="NativeHeap"/>), nor the number of live tensors grows.
/// </summary>
[Trait("Category", "Slow")]
[Collection(TrainerCollection.Name)]
public sealed class TrainerMemoryTests(ITestOutputHelper output) : IDisposable
{
    private const int WarmSteps = 40;
    private const int Steps = 240;
    private const long ByteBound = 1 << 20;

    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-memory-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public void Two_hundred_steps_run_flat_in_managed_and_native_memory()
    {
        Skip.IfNot(NativeHeap.IsAvailable, "this test reads glibc's mallinfo2 (glibc 2.33+), which this platform lacks");
        var probe = new MemoryProbe(WarmSteps, Steps);
        var options = TrainerFixture.Options(Path.Combine(_dir, "run")) with { MaxTrainSteps = Steps, TrainBatchSize = 1 };
        new DreamBoothTrainer(options, probe).Run();

        var (warm, last) = (probe.Samples[0], probe.Samples[1]);
        output.WriteLine($"step {WarmSteps}: {warm}; step {Steps}: {last}");
        Assert.True(last.Managed - warm.Managed < ByteBound, $"managed memory grew by {last.Managed - warm.Managed:N0} B");
        Assert.True(last.Native - warm.Native < ByteBound, $"native memory grew by {last.Native - warm.Native:N0} B");
        Assert.Equal(warm.LiveTensors, last.LiveTensors);
    }

    private sealed record Sample(long Managed, long Native, long LiveTensors)
    {
        public override string ToString() => $"managed {Managed:N0} B, native {Native:N0} B, {LiveTensors} live tensors";
    }

    private sealed class MemoryProbe(params int[] steps) : ITrainingObserver
    {
        public List<Sample> Samples { get; } = [];
        public void Info(string message) { }
        public void Warning(string message) { }
        public void Step(TrainingProgress progress)
        {
            if (!steps.Contains(progress.Step)) return;
            long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Samples.Add(new Sample(GC.GetTotalMemory(forceFullCollection: true), NativeHeap.InUseBytes(), live));
        }
    }
}
