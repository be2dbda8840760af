using System.Runtime.InteropServices;

namespace Peft.Typed.Testing;

/// <summary>
/// Bytes the process's C heap has handed out and not yet freed, from glibc's <c>mallinfo2</c> (small chunks in every
/// arena plus mmap-ed large chunks). libtorch's CPU allocator takes tensor storage from this heap, so the figure
/// follows live tensor memory exactly, unlike the resident set size, which also keeps freed pages glibc retains.
/// </summary>
public static class NativeHeap
{
    /// <summary>True where the figure is available (Linux with glibc 2.33 or newer).</summary>
    public static bool IsAvailable { get; } = Probe();

    /// <summary>Bytes allocated and not freed; throws where <see cref="IsAvailable"/> is false.</summary>
    public static long InUseBytes()
    {
        var info = Info();
        return (long)(info.uordblks + info.hblkhd);
    }

    /// <summary>Bytes in blocks glibc mapped separately (large allocations), in use.</summary>
    public static long MappedBytes() => (long)Info().hblkhd;

    /// <summary>Bytes the heaps of every arena hold from the kernel, in use or free (not the separately mapped blocks).</summary>
    public static long HeapBytes() => (long)Info().arena;

    private static Mallinfo2 Info() =>
        IsAvailable ? MallInfo2() : throw new PlatformNotSupportedException("mallinfo2 (glibc 2.33+) is not available on this platform.");

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            MallInfo2();
            return true;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern Mallinfo2 MallInfo2();

    // Field names as in glibc's struct mallinfo2 (all size_t).
    [StructLayout(LayoutKind.Sequential)]
    private struct Mallinfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }
}
