using Peft.Typed.Models.Runtime;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Runtime;

public class TorchRuntimeTests
{
    [Theory]
    [InlineData(2, 4, 8)]
    [InlineData(2, 8, 12)]
    [InlineData(3, 12, 6)]
    [InlineData(2, 72, 4)]
    public void Convolution_input_gradients_are_correct_for_any_channel_count(int batch, int channels, int size)
    {
        _ = TorchRuntime.OneDnnConvolutionsDisabled;
        using var scope = NewDisposeScope();
        manual_seed(batch * 100 + channels);
        var weight = randn(channels, channels, 3, 3);
        for (int repeat = 0; repeat < 3; repeat++)
        {
            var x = randn(batch, channels, size, size).requires_grad_();
            var y = nn.functional.conv2d(x, weight, padding: [1, 1]);
            var gradOut = randn_like(y);
            var grad = autograd.grad([y], [x], [gradOut])[0];
            // d/dx of a stride-1 convolution is the correlation of the output gradient with the flipped, transposed kernel.
            var expected = nn.functional.conv2d(gradOut, weight.flip(2, 3).transpose(0, 1), padding: [1, 1]);
            Assert.True((grad - expected).abs().max().item<float>() <= 1e-4f * expected.abs().max().item<float>(), $"repeat {repeat}");
        }
    }

    [Theory]
    [InlineData(2, 72, 24)]
    [InlineData(2, 24, 24)]
    [InlineData(2, 40, 24)]
    [InlineData(2, 16, 72)]
    public void Forward_convolutions_match_float64_for_any_channel_count(int batch, int inChannels, int outChannels)
    {
        _ = TorchRuntime.OneDnnConvolutionsDisabled;
        using var scope = NewDisposeScope();
        manual_seed(inChannels);
        var weight = randn(outChannels, inChannels, 3, 3);
        for (int repeat = 0; repeat < 3; repeat++)
        {
            var x = randn(batch, inChannels, 6, 6);
            var actual = nn.functional.conv2d(x, weight, padding: [1, 1]);
            var expected = nn.functional.conv2d(x.to_type(ScalarType.Float64), weight.to_type(ScalarType.Float64), padding: [1, 1]);
            Assert.True((actual - expected).abs().max().item<double>() <= 1e-4 * expected.abs().max().item<double>(), $"repeat {repeat}");
        }
    }

    [SkippableFact]
    public void Retained_memory_is_neither_mapped_per_tensor_nor_given_back_when_freed()
    {
        Skip.IfNot(NativeHeap.IsAvailable, "this test reads glibc's mallinfo2 (glibc 2.33+), which this platform lacks");
        Assert.True(TorchRuntime.RetainFreedMemory());
        Assert.True(TorchRuntime.RetainFreedMemory(), "a second call changes nothing and succeeds");
        // 48 MiB: above the largest mmap threshold glibc uses by default (32 MiB), so without the setting this tensor
        // would be a mapping of its own, unmapped again when it is freed; below the 64 MiB of a per-thread heap, which
        // this (non-main) test thread allocates from.
        const long bytes = 48L << 20;
        long mappedBefore = NativeHeap.MappedBytes();
        long heapWhileAlive;
        using (var large = ones(bytes / sizeof(float)))
        {
            Assert.True(NativeHeap.MappedBytes() - mappedBefore < bytes, $"the tensor got its own mapping ({NativeHeap.MappedBytes() - mappedBefore:N0} B more mapped)");
            heapWhileAlive = NativeHeap.HeapBytes();
        }
        Assert.True(NativeHeap.HeapBytes() >= heapWhileAlive, $"the heap gave back {heapWhileAlive - NativeHeap.HeapBytes():N0} B when the tensor was freed");
    }

    [Fact]
    public void Default_threads_is_libtorchs_count_on_a_thread_that_set_none()
    {
        int seen = 0;
        var thread = new Thread(() => seen = get_num_threads());
        thread.Start();
        thread.Join();
        Assert.True(TorchRuntime.DefaultThreads >= 1);
        Assert.Equal(seen, TorchRuntime.DefaultThreads);
    }

    [Fact]
    public void Set_threads_sets_libtorchs_intra_op_threads_and_refuses_fewer_than_one()
    {
        int before = get_num_threads();
        try
        {
            TorchRuntime.SetThreads(1);
            Assert.Equal(1, get_num_threads());
            Assert.Throws<ArgumentOutOfRangeException>(() => TorchRuntime.SetThreads(0));
            Assert.Equal(1, get_num_threads());
        }
        finally
        {
            set_num_threads(before);
        }
    }

    [SkippableFact]
    public void Mkl_keeps_libtorchs_thread_count_from_the_start()
    {
        bool? dynamic = TorchRuntime.MklDynamic();
        Skip.If(dynamic is null, "this libtorch has no MKL");
        // Recorded by the module initializer before any test could set a thread count.
        Assert.True(TorchRuntime.MklThreadsFixed, "MKL_DYNAMIC was still on after the library loaded");
        Assert.False(dynamic, "MKL_DYNAMIC is on");
    }

    [SkippableFact]
    public void Libtorch_kernels_are_capped_at_avx2_on_an_avx512_machine_unless_the_user_chose()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "the cap applies to Linux machines with AVX-512 only");
        // The variable as libtorch's getenv sees it (the native environment, not .NET's copy).
        var native = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(GetEnv("ATEN_CPU_CAPABILITY"));
        if (TorchRuntime.CpuCapabilitySetting is null)
        {
            Assert.False(string.IsNullOrEmpty(native), "no cap applied although the user set no ATEN_CPU_CAPABILITY");
            return;
        }
        Assert.Equal("ATEN_CPU_CAPABILITY=avx2", TorchRuntime.CpuCapabilitySetting);
        Assert.Equal("avx2", native);
    }

    [Fact]
    public void Nnpack_is_switched_off_in_libtorchs_context()
    {
        // The module initializer ran before the first tensor; NnpackEnabled reads libtorch's global context itself.
        using var probe = zeros(1);
        Assert.False(TorchRuntime.NnpackEnabled, "libtorch's userEnabledNNPACK is still true");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getenv")]
    private static extern IntPtr GetEnv([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string name);
}
