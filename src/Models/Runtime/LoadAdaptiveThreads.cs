using System.Diagnostics;
using System.Globalization;

namespace Peft.Typed.Models.Runtime;

/// <summary>
/// Re-chooses libtorch's intra-op thread count between training steps: one thread per core that other processes
/// leave free, at least one. Beside one busy process on two cores, two threads made the tiny training step 1.9–2.7×
/// slower than on an idle machine (a parallel region waits for the thread the kernel has not scheduled), one thread
/// 1.4–1.7×, as fast as it runs alone; on an idle machine one thread per core is the fastest (docs/perf.md, "Threads
/// that follow the load").
/// </summary>
/// <remarks>
/// Other processes' load is the machine's busy CPU time (/proc/stat, without steal: the hypervisor's, not a process's)
/// minus this process's own (/proc/self/stat), per wall second, over windows of at least two seconds. A new count is
/// applied after two consecutive windows asked for it, so one burst does not flip it. Floating-point sums split over a
/// different number of threads round differently, so runs under a changing load repeat to rounding, not bit for bit.
/// </remarks>
public sealed class LoadAdaptiveThreads
{
    /// <summary>USER_HZ, the unit of /proc's CPU times: 100 on every Linux ABI .NET runs on.</summary>
    private const double TicksPerSecond = 100;

    private readonly Func<CpuTimes?> _read;
    private readonly Action<int> _apply;
    private readonly double _windowSeconds;
    private readonly int _maxThreads;
    private CpuTimes _windowStart;
    private int? _asked;

    /// <param name="maxThreads">The most threads to use (this process's cores).</param>
    /// <param name="threads">The count in force now.</param>
    /// <param name="read">Reads the machine's and this process's CPU times; null when they cannot be read.</param>
    /// <param name="apply">Sets libtorch's thread count.</param>
    /// <param name="window">The shortest span one decision looks at.</param>
    public LoadAdaptiveThreads(int maxThreads, int threads, Func<CpuTimes?> read, Action<int> apply, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxThreads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _maxThreads = maxThreads;
        Threads = Math.Min(threads, maxThreads);
        _read = read ?? throw new ArgumentNullException(nameof(read));
        _apply = apply ?? throw new ArgumentNullException(nameof(apply));
        _windowSeconds = window.TotalSeconds;
        _windowStart = read() ?? throw new InvalidOperationException("CPU times cannot be read on this machine.");
    }

    /// <summary>
    /// Follows the load for libtorch's threads from now on (at most libtorch's default, one per core), or null where the
    /// CPU times cannot be read (not Linux, /proc not mounted): then the count stays as it is.
    /// </summary>
    public static LoadAdaptiveThreads? ForThisProcess()
    {
        if (ReadProc() is null) return null;
        return new LoadAdaptiveThreads(TorchRuntime.DefaultThreads, TorchSharp.torch.get_num_threads(), ReadProc, TorchRuntime.SetThreads, TimeSpan.FromSeconds(2));
    }

    /// <summary>libtorch's thread count this chooser has in force.</summary>
    public int Threads { get; private set; }

    /// <summary>Cores that other processes kept busy in the last complete window (null before the first).</summary>
    public double? OtherProcessesCores { get; private set; }

    /// <summary>Call between steps. True when it changed the thread count (<see cref="Threads"/> says to what).</summary>
    public bool Observe()
    {
        if (_read() is not { } now) return false;
        double wall = now.WallSeconds - _windowStart.WallSeconds;
        if (wall < _windowSeconds) return false;
        double others = Math.Max(0, (now.MachineBusyTicks - _windowStart.MachineBusyTicks - (now.ProcessTicks - _windowStart.ProcessTicks)) / TicksPerSecond / wall);
        int cores = now.MachineCores;
        _windowStart = now;
        OtherProcessesCores = others;
        int wanted = Math.Clamp((int)Math.Round(cores - others, MidpointRounding.AwayFromZero), 1, _maxThreads);
        if (wanted == Threads)
        {
            _asked = null;
            return false;
        }
        if (_asked != wanted)
        {
            _asked = wanted;
            return false;
        }
        _asked = null;
        _apply(wanted);
        Threads = wanted;
        return true;
    }

    /// <summary>The machine's busy ticks from the aggregate line of /proc/stat and this process's from /proc/self/stat.</summary>
    public static CpuTimes? ReadProc()
    {
        try
        {
            var stat = File.ReadAllLines("/proc/stat");
            var total = stat[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (total[0] != "cpu" || total.Length < 8) return null;
            // user nice system idle iowait irq softirq steal …: guest time is already counted in user.
            long busy = long.Parse(total[1], CultureInfo.InvariantCulture) + long.Parse(total[2], CultureInfo.InvariantCulture)
                + long.Parse(total[3], CultureInfo.InvariantCulture) + long.Parse(total[6], CultureInfo.InvariantCulture)
                + long.Parse(total[7], CultureInfo.InvariantCulture);
            int cores = stat.Count(line => line.StartsWith("cpu", StringComparison.Ordinal) && line.Length > 3 && char.IsDigit(line[3]));
            // The command name (field 2) may hold spaces and parentheses: fields are counted after its closing one.
            var self = File.ReadAllText("/proc/self/stat");
            var fields = self[(self.LastIndexOf(')') + 2)..].Split(' ');
            long process = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return new CpuTimes(busy, process, Math.Max(1, cores), Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException or OverflowException)
        {
            return null;
        }
    }
}

/// <summary>CPU times at one moment: the machine's busy ticks (all cores), this process's ticks, the machine's cores, a wall clock.</summary>
public readonly record struct CpuTimes(long MachineBusyTicks, long ProcessTicks, int MachineCores, double WallSeconds);
