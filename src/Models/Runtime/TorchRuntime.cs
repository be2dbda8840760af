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
    /// True when the CPU oneDNN (mkldnn) convolution kernels were found to compute wrong results here and were
    /// switched off, so convolutions use libtorch's reference (im2col + GEMM) kernels instead.
    /// </summary>
    public static bool OneDnnConvolutionsDisabled { get; private set; }

#pragma warning disable CA2255 // A library initializer is intended: every model and adapter relies on correct convolutions.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize() => OneDnnConvolutionsDisabled = DisableOneDnnIfBroken();

    /// <summary>
    /// libtorch 2.10's oneDNN 3.7.1 computes transposed convolutions and convolution input-gradients wrongly when
    /// the channel count is not a multiple of its SIMD block and the batch exceeds 1 (seen on AVX2 and AVX-512 CPUs:
    /// relative errors of 0.2 to 0.8, sometimes NaN, varying from call to call). A convolution gradient is
    /// something we cannot get wrong, so check a small case and, if it fails, turn oneDNN off as
    /// <c>torch.backends.mkldnn.enabled = False</c> would (TorchSharp does not expose that switch).
    /// </summary>
    private static bool DisableOneDnnIfBroken()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64) return false;
        if (TransposedConvolutionIsCorrect()) return false;
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

    private static bool TransposedConvolutionIsCorrect()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new TorchSharp.torch.Generator(1234);
        var weight = randn([4, 4, 3, 3], generator: generator);
        var input = randn([2, 4, 8, 8], generator: generator);
        // conv_transpose2d(x, w) with padding 1 equals conv2d(x, w flipped and transposed) with padding 1.
        var expected = nn.functional.conv2d(input, weight.flip(2, 3).transpose(0, 1), padding: [1, 1]);
        double scale = expected.abs().max().item<float>();
        for (int i = 0; i < 3; i++)
        {
            var actual = nn.functional.conv_transpose2d(input, weight, padding: [1, 1]);
            if (!((actual - expected).abs().max().item<float>() <= 1e-4 * scale)) return false;
        }
        return true;
    }

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static extern IntPtr GlobalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static extern bool UserEnabledMkldnn(IntPtr context);
}
