using Peft.Typed.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Lora;

/// <summary>
/// The LoRA branch of a convolution, <c>lora_B(lora_A(x)) · scaling</c>, computed on CPU as two matrix products without
/// im2col. libtorch's CPU convolution (oneDNN is off, see TorchRuntime) unfolds the whole input into a
/// [C_in·k·k, H·W] matrix for every call and again in backward, which for lora_A's r output channels costs about as much
/// as the base convolution itself. Here all k·k taps of lora_A multiply the input at once
/// (Z = [k·k·r, C_in] · [C_in, H·W], reading the input once), the tap maps are zero-padded, each is shifted into place by
/// slicing and the k·k slices are summed; lora_B (1×1) is one more product. Same FLOPs as the convolutions, and
/// autograd's backward is plain matrix products and slice gradients.
/// </summary>
internal static class LoraConvBranch
{
    /// <summary>True for the convolutions this path computes: CPU, groups 1 (dilation is always 1 for LoRA).</summary>
    public static bool Handles(LayerGeometry geometry, Tensor x) =>
        geometry.IsConv && geometry.Groups == 1 && x.device_type == DeviceType.CPU && x.dim() == 4;

    public static Tensor Forward(Tensor x, LayerGeometry geometry, Tensor weightA, Tensor weightB, double scaling)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], r = weightA.shape[0], channels = weightA.shape[1];
        long kh = geometry.KernelSize[0], kw = geometry.KernelSize[1];
        long sh = geometry.Stride[0], sw = geometry.Stride[1];
        long ph = geometry.Padding[0], pw = geometry.Padding[1];
        long h = x.shape[2], w = x.shape[3];
        long hp = h + 2 * ph, wp = w + 2 * pw;
        long ho = (hp - kh) / sh + 1, wo = (wp - kw) / sw + 1;

        // [r, C, kh, kw] → [kh·kw·r, C]: row (i·kw + j)·r + q holds tap (i, j) of output channel q. The tap maps, not
        // the C-channel input, are zero-padded: k·k·r channels instead of C.
        var taps = weightA.permute(2, 3, 0, 1).reshape(kh * kw * r, channels);
        var maps = taps.matmul(x.reshape(n, channels, h * w)).view(n, kh * kw * r, h, w);
        var z = (ph > 0 || pw > 0 ? nn.functional.pad(maps, [pw, pw, ph, ph]) : maps).view(n, kh * kw, r, hp, wp);
        Tensor? low = null;
        for (long i = 0; i < kh; i++)
        {
            for (long j = 0; j < kw; j++)
            {
                var tap = z.select(1, i * kw + j).slice(2, i, i + (ho - 1) * sh + 1, sh).slice(3, j, j + (wo - 1) * sw + 1, sw);
                low = low is null ? tap : low.Add(tap);
            }
        }
        // lora_B: [out, r, 1, 1]; the scaling goes on the small weight, not on the full-size output.
        var up = weightB.reshape(weightB.shape[0], r).Mul(scaling).matmul(low!.reshape(n, r, ho * wo));
        return up.view(n, weightB.shape[0], ho, wo).MoveToOuterDisposeScope();
    }
}
