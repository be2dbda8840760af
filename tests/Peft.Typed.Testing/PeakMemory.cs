using System.Globalization;

namespace Peft.Typed.Testing;

/// <summary>
/// Process peak resident memory on Linux: <see cref="Reset"/> writes 5 to /proc/self/clear_refs, which sets the
/// high-water mark (VmHWM) back to the current RSS; <see cref="PeakBytes"/> reads it. Native (libtorch) and managed
/// memory both count. Tests using it belong to the non-parallel "Memory" collection.
/// </summary>
public static class PeakMemory
{
    public static bool Supported => OperatingSystem.IsLinux() && File.Exists("/proc/self/clear_refs");

    public static void Reset()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        File.WriteAllText("/proc/self/clear_refs", "5");
    }

    public static long PeakBytes() => ReadStatus("VmHWM:");

    public static long CurrentBytes() => ReadStatus("VmRSS:");

    private static long ReadStatus(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
            var kilobytes = line[field.Length..].Trim().Split(' ')[0];
            return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException($"/proc/self/status has no {field} line.");
    }
}
