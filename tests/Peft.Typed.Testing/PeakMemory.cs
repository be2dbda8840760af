using System.Globalization;
using System.Runtime.InteropServices;

namespace Peft.Typed.Testing;

/// <summary>
/// Process peak resident memory on Linux: <see cref="Reset"/> writes 5 to /proc/self/clear_refs, which sets the
/// high-water mark (VmHWM) back to the current RSS; <see cref="PeakBytes"/> reads it. Native (libtorch) and managed
/// memory both count. Tests using it belong to the non-parallel "Memory" collection.
/// </summary>
public static class PeakMemory
{
    public static bool Supported => OperatingSystem.IsLinux() && File.Exists("/proc/self/clear_refs");

    /// <summary>
    /// Frees what can be freed, hands glibc's retained free heap back to the OS (otherwise the next allocations reuse it
    /// without raising RSS and the peak under-counts), then sets the high-water mark to the current RSS.
    /// </summary>
    public static void Reset()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        MallocTrim(0);
        File.WriteAllText("/proc/self/clear_refs", "5");
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

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
