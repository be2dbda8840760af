using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Runtime;

/// <summary>
/// Process-wide TorchSharp settings this library depends on, applied once when the assembly loads.
/// </summary>
public static class TorchRuntime
{
    /// <summary>
    /// True when the CPU oneDNN (mkldnn) convolution kernels, which compute wrong results intermittently on x64
    /// Linux, were switched off, so convolutions use libtorch's reference (im2col + GEMM) kernels instead.
    /// </summary>
    public static bool OneDnnConvolutionsDisabled { get; private set; }

#pragma warning disable CA2255 // A library initializer is intended: every model and adapter relies on correct convolutions.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        // Before the first call into libtorch below: libgomp reads its settings once, when it is loaded, and libtorch
        // reads ATEN_CPU_CAPABILITY once, at its first kernel dispatch.
        OpenMpWaitSetting = LimitOpenMpSpinning();
        CpuCapabilitySetting = CapCpuCapability();
        OneDnnConvolutionsDisabled = DisableOneDnn();
        DisableNnpack();
        DefaultThreads = get_num_threads();
        MklThreadsFixed = FixMklThreads();
    }

    /// <summary>libtorch's own intra-op thread count, as it was before anything set one (one per core).</summary>
    public static int DefaultThreads { get; private set; }

    /// <summary>
    /// True when MKL's own choice of thread count (<c>MKL_DYNAMIC</c>) was switched off as the library loaded, so every
    /// matrix product runs on libtorch's thread count; false where the libtorch in use has no MKL.
    /// </summary>
    public static bool MklThreadsFixed { get; private set; }

    /// <summary>
    /// MKL starts with <c>MKL_DYNAMIC</c> on and may then run a product on fewer threads than libtorch's count, summing
    /// it in another order; the first <c>set_num_threads</c> on any thread switches that off for the whole process. So a
    /// seeded generation could give other bits once another thread (the trainer, a test) had set a thread count, even
    /// the same one. Setting libtorch's own count here switches it off from the start; the count each thread uses stays.
    /// </summary>
    private static bool FixMklThreads()
    {
        set_num_threads(DefaultThreads);
        return MklDynamic() == false;
    }

    /// <summary>Whether MKL's <c>MKL_DYNAMIC</c> is on now, or null where the libtorch in use has no MKL.</summary>
    internal static bool? MklDynamic()
    {
        try
        {
            return MklServGetDynamic() != 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// The libgomp setting this library applied before libtorch was loaded (<c>GOMP_SPINCOUNT=…</c>), or null when it
    /// applied none: the user set <c>OMP_WAIT_POLICY</c> or <c>GOMP_SPINCOUNT</c> (kept), libtorch was loaded before
    /// this library, or the OS is not Linux.
    /// </summary>
    public static string? OpenMpWaitSetting { get; private set; }

    /// <summary>
    /// How many iterations an idle libtorch OpenMP thread spins before it sleeps. libgomp's default, 300,000 (about
    /// 3 ms), collapses a training step on a busy machine: the spinning thread holds a core its partner needs to finish
    /// the parallel region, and the tiny step took 12–30× longer than without spinning at a load of 20 (docs/perf.md,
    /// "Threads and the OpenMP wait policy"); 3,000 is close to no spinning there, and 1,000 took 8 % less than 3,000
    /// beside two busy processes without a slower quiet step ("Spin count 1,000"). Not spinning at all
    /// (<c>OMP_WAIT_POLICY=PASSIVE</c>) doubled the tiny step on one otherwise idle VM, where every parallel region then
    /// waits for the sleeping thread to be woken.
    /// </summary>
    public const int OpenMpSpinCount = 1000;

    /// <summary>
    /// Sets <c>GOMP_SPINCOUNT</c> to <see cref="OpenMpSpinCount"/> through libc's <c>setenv</c>: libgomp reads it
    /// once, when it is loaded, and .NET's <c>Environment.SetEnvironmentVariable</c> does not reach native
    /// <c>getenv</c>. Called before the first call into libtorch.
    /// </summary>
    private static string? LimitOpenMpSpinning() =>
        LibgompMayBeLoaded() ? null : SetNativeDefault("GOMP_SPINCOUNT", OpenMpSpinCount.ToString(System.Globalization.CultureInfo.InvariantCulture), "OMP_WAIT_POLICY");

    /// <summary>True when libgomp is mapped (it has read its environment: too late to set it), or the maps cannot be read.</summary>
    private static bool LibgompMayBeLoaded()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return File.ReadAllText("/proc/self/maps").Contains("libgomp", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>
    /// The kernel set this library chose for libtorch before its first kernel ran (<c>ATEN_CPU_CAPABILITY=avx2</c>), or
    /// null when it chose none: the CPU has no AVX-512, the user set <c>ATEN_CPU_CAPABILITY</c> (kept), or the OS is not Linux.
    /// </summary>
    public static string? CpuCapabilitySetting { get; private set; }

    /// <summary>
    /// Caps libtorch's CPU kernels at AVX2 where it would pick AVX-512. With AVX-512 kernels about one training process
    /// in three ran its whole backward pass ~3× slower on the project's machine (libtorch's vectorised <c>exp</c> on
    /// underflowing inputs in flash-attention backward; 3 of 10 mid processes at 8.9–9.8 s against 3.9–4.4 s, quiet),
    /// while with AVX2 kernels no process did and the fast step took the same time (docs/perf.md, "Slow processes").
    /// </summary>
    private static string? CapCpuCapability() =>
        System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? SetNativeDefault("ATEN_CPU_CAPABILITY", "avx2") : null;

    /// <summary>
    /// Sets <paramref name="name"/> in the native environment (libc's <c>setenv</c>: .NET's
    /// <c>Environment.SetEnvironmentVariable</c> does not reach the <c>getenv</c> libtorch and libgomp call) unless the
    /// user set it or any of <paramref name="userChoices"/>; returns "name=value", or null when nothing was set or the
    /// OS is not Linux.
    /// </summary>
    private static string? SetNativeDefault(string name, string value, params string[] userChoices)
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            if (userChoices.Append(name).Any(choice => GetEnv(choice) != IntPtr.Zero)) return null;
            return SetEnv(name, value, overwrite: 0) == 0 ? $"{name}={value}" : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Sets libtorch's intra-op thread count (OpenMP and MKL), as <c>torch.set_num_threads</c>; for the whole process.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is below 1.</exception>
    public static void SetThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        set_num_threads(threads);
    }

    /// <summary>
    /// libtorch's own NNPACK switch in its global context (what <c>torch.backends.nnpack.enabled</c> reads and
    /// <c>torch.backends.nnpack.set_flags</c> writes). This library switches it off when it loads (why: below).
    /// </summary>
    public static bool NnpackEnabled
    {
        get => UserEnabledNnpack(GlobalContext());
        set => SetUserEnabledNnpack(GlobalContext(), value);
    }

    /// <summary>Whether libtorch's NNPACK can run on this CPU (<c>torch._nnpack_available()</c>), switched on or not.</summary>
    public static bool NnpackAvailable => NnpackAvailableOnCpu();

    /// <summary>
    /// libtorch runs float32 convolutions of 16 or more images through NNPACK while it is enabled, and that is not faster
    /// here: on a 2-core AMD EPYC (Zen, AVX2) VM, in alternating rounds, the embedded UNet's training step at batch 32
    /// took 1.0–1.4 s without NNPACK and 1.4–1.6 s with it, its inference forward at batch 16 (8 images with guidance)
    /// 157–273 ms against 338–366 ms (benchmark <c>nnpack</c>, docs/perf.md "NNPACK"). On a CPU NNPACK does not
    /// support, libtorch instead logs "Could not initialize NNPACK! Reason: Unsupported hardware." at every eligible
    /// convolution (20,673 lines in one default training run). So NNPACK is switched off, as
    /// <c>torch.backends.nnpack.set_flags(False)</c> would; libtorch checks the switch before NNPACK's availability, so
    /// nothing is logged either.
    /// </summary>
    private static void DisableNnpack()
    {
        try
        {
            NnpackEnabled = false;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A libtorch without the switch (another build than the pinned one): nothing to switch off.
        }
    }

    /// <summary>
    /// libtorch 2.10's oneDNN 3.7.1 computes convolutions wrongly when the channel count is not a multiple of its
    /// SIMD block and the batch exceeds 1 (seen on AVX2 and AVX-512 CPUs: forward conv2d 72 → 24 off by 0.2 to 10,
    /// transposed convolutions and input gradients likewise, sometimes NaN). Whether a call is wrong depends on
    /// memory contents: the same forward convolution with the same seed was right in one process and wrong in the
    /// next, so a self-check at start-up can pass while later calls fail. oneDNN is therefore switched off on x64
    /// Linux, as <c>torch.backends.mkldnn.enabled = False</c> would (TorchSharp does not expose that switch);
    /// convolutions then use libtorch's reference (im2col + GEMM) kernels.
    /// </summary>
    private static bool DisableOneDnn()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64) return false;
        try
        {
            SetUserEnabledMkldnn(GlobalContext(), false);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
        return !UserEnabledMkldnn(GlobalContext());
    }

    /// <summary>
    /// Makes glibc keep the memory of freed tensors for the next ones instead of handing it back to the kernel, for
    /// the rest of the process. By default glibc maps every block above its mmap threshold (128 KiB, raised up to
    /// 32 MiB as blocks are freed) afresh and unmaps it on free, and gives back free memory at the top of its heaps, so
    /// a training step's large activations and gradients are faulted in page by page on every step; on the VM of
    /// docs/perf.md a fresh 4 KiB page costs about 17 µs, seconds per step for SD 1.5's UNet. Here: no separate mapping
    /// for large blocks (<c>M_MMAP_MAX</c> 0), no trimming (<c>M_TRIM_THRESHOLD</c> unlimited), and 64 MiB of top pad,
    /// which keeps the per-thread heaps (at most 64 MiB each) from being unmapped when they empty. glibc still maps
    /// blocks over 64 MiB that threads other than the main one allocate. The resident set stays at its high-water mark
    /// until the process ends; the peak itself does not grow. Returns false where glibc's <c>mallopt</c> is not
    /// available (Windows, macOS, musl); calling it again is harmless.
    /// </summary>
    public static bool RetainFreedMemory()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            // mallopt takes an int; glibc widens it to size_t, so -1 is the largest threshold (documented in malloc.c).
            return MallOpt(MallocMmapMax, 0) == 1 && MallOpt(MallocTrimThreshold, -1) == 1 && MallOpt(MallocTopPad, 64 << 20) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    // <malloc.h>
    private const int MallocTrimThreshold = -1;
    private const int MallocTopPad = -2;
    private const int MallocMmapMax = -4;

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("libc", EntryPoint = "getenv")]
    private static extern IntPtr GetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int MallOpt(int parameter, int value);

    // MKL's mkl_get_dynamic; libtorch_cpu links MKL statically and exports its service layer.
    [DllImport("libtorch_cpu", EntryPoint = "mkl_serv_get_dynamic")]
    private static extern int MklServGetDynamic();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static extern IntPtr GlobalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static extern void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledNNPACKEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static extern bool UserEnabledNnpack(IntPtr context);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at4_ops17_nnpack_available4callEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static extern bool NnpackAvailableOnCpu();

    [DllImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static extern bool UserEnabledMkldnn(IntPtr context);
}
