using Peft.Typed.Models.Runtime;

namespace Peft.Typed.Models.Tests.Runtime;

/// <summary>
/// <see cref="LoadAdaptiveThreads"/> on a simulated machine (CPU times advanced by hand) and the /proc reader it uses.
/// </summary>
public sealed class LoadAdaptiveThreadsTests
{
    /// <summary>A machine whose CPU times advance by what the test says other processes and this one used.</summary>
    private sealed class SimulatedMachine(int cores)
    {
        private long _busy, _process;
        private double _wall;

        public CpuTimes? Read() => new CpuTimes(_busy, _process, cores, _wall);

        public void Run(double seconds, double otherCores, double ownCores)
        {
            _wall += seconds;
            _process += (long)Math.Round(ownCores * seconds * 100);
            _busy += (long)Math.Round((otherCores + ownCores) * seconds * 100);
        }
    }

    private static (LoadAdaptiveThreads Threads, SimulatedMachine Machine, List<int> Applied) Start(int cores, int maxThreads)
    {
        var machine = new SimulatedMachine(cores);
        var applied = new List<int>();
        return (new LoadAdaptiveThreads(maxThreads, maxThreads, machine.Read, applied.Add, TimeSpan.FromSeconds(1)), machine, applied);
    }

    [Fact]
    public void An_idle_machine_keeps_one_thread_per_core()
    {
        var (threads, machine, applied) = Start(cores: 2, maxThreads: 2);
        for (int window = 0; window < 5; window++)
        {
            machine.Run(1.2, otherCores: 0.05, ownCores: 1.9);
            Assert.False(threads.Observe());
        }
        Assert.Empty(applied);
        Assert.Equal(2, threads.Threads);
        Assert.Equal(0.05, threads.OtherProcessesCores!.Value, 3);
    }

    [Fact]
    public void Two_busy_processes_on_two_cores_leave_one_thread_after_two_windows_that_agree_and_it_returns_when_they_stop()
    {
        var (threads, machine, applied) = Start(cores: 2, maxThreads: 2);
        machine.Run(1.5, otherCores: 1.2, ownCores: 0.8);
        Assert.False(threads.Observe());
        Assert.Equal(1.2, threads.OtherProcessesCores!.Value, 3);
        machine.Run(1.5, otherCores: 1.2, ownCores: 0.8);
        Assert.True(threads.Observe());
        Assert.Equal([1], applied);
        Assert.Equal(1, threads.Threads);

        // One thread beside them: they keep 1.33 cores, still one thread.
        machine.Run(1.5, otherCores: 1.33, ownCores: 0.66);
        Assert.False(threads.Observe());
        machine.Run(1.5, otherCores: 0, ownCores: 1);
        Assert.False(threads.Observe());
        machine.Run(1.5, otherCores: 0, ownCores: 1);
        Assert.True(threads.Observe());
        Assert.Equal([1, 2], applied);
        Assert.Equal(2, threads.Threads);
    }

    [Fact]
    public void One_busy_window_between_quiet_ones_changes_nothing()
    {
        var (threads, machine, applied) = Start(cores: 2, maxThreads: 2);
        foreach (double others in new[] { 0.0, 1.5, 0.0, 1.5, 0.0 })
        {
            machine.Run(1.1, others, ownCores: 2 - others);
            Assert.False(threads.Observe());
        }
        Assert.Empty(applied);
    }

    [Fact]
    public void Calls_within_a_window_decide_nothing_and_the_window_spans_them()
    {
        var (threads, machine, applied) = Start(cores: 2, maxThreads: 2);
        for (int step = 0; step < 4; step++)
        {
            machine.Run(0.2, otherCores: 2, ownCores: 0);
            Assert.False(threads.Observe());
        }
        Assert.Null(threads.OtherProcessesCores);
        machine.Run(0.2, otherCores: 2, ownCores: 0);
        Assert.False(threads.Observe());
        Assert.Equal(2.0, threads.OtherProcessesCores!.Value, 3);
        Assert.Empty(applied);
    }

    [Fact]
    public void The_count_stays_between_one_and_this_processs_cores()
    {
        var (threads, machine, applied) = Start(cores: 16, maxThreads: 4);
        for (int window = 0; window < 2; window++)
        {
            machine.Run(1, otherCores: 15.9, ownCores: 0.1);
            threads.Observe();
        }
        Assert.Equal([1], applied);
        for (int window = 0; window < 2; window++)
        {
            machine.Run(1, otherCores: 3, ownCores: 1);
            threads.Observe();
        }
        Assert.Equal([1, 4], applied);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LoadAdaptiveThreads(0, 1, machine.Read, applied.Add, TimeSpan.FromSeconds(1)));
    }

    [SkippableFact]
    public void Proc_times_are_read_on_linux_and_count_this_processs_work()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "/proc is Linux's");
        var before = LoadAdaptiveThreads.ReadProc();
        Assert.NotNull(before);
        Assert.True(before.Value.MachineCores >= 1);
        // Spin until the kernel has charged this process and the machine a few ticks (10 ms each), however busy the
        // machine is: the two are accounted apart (the process's time follows the scheduler's runtime, the machine's
        // counts ticks, less those the hypervisor took as steal), and in one CI run the process's had grown by 5 ticks
        // while the machine's had not yet.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        CpuTimes after;
        do
        {
            double x = 0;
            for (int i = 0; i < 1_000_000; i++) x += Math.Sqrt(i);
            GC.KeepAlive(x);
            after = LoadAdaptiveThreads.ReadProc()!.Value;
        }
        while ((after.ProcessTicks - before.Value.ProcessTicks < 5 || after.MachineBusyTicks - before.Value.MachineBusyTicks < 5) && DateTime.UtcNow < deadline);
        Assert.True(after.ProcessTicks - before.Value.ProcessTicks >= 5, "this process's CPU time did not grow");
        Assert.True(after.MachineBusyTicks - before.Value.MachineBusyTicks >= 5, "the machine's busy time did not grow with this process's");
        Assert.True(after.WallSeconds > before.Value.WallSeconds);
    }
}
