using System.Globalization;

namespace Peft.Typed.Benchmarks.Training;

/// <summary>The process's resident set (VmRSS) and its high-water mark (VmHWM) from /proc/self/status (Linux).</summary>
public static class ProcessMemory
{
    public static long ResidentBytes() => Read("VmRSS:");

    public static long PeakResidentBytes() => Read("VmHWM:");

    private static long Read(string field)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) throw new PlatformNotSupportedException($"{status} is not available: peak memory is measured on Linux only.");
        var line = File.ReadLines(status).First(l => l.StartsWith(field, StringComparison.Ordinal));
        // "VmHWM:    123456 kB"
        return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }
}
