using Peft.Typed.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Lora;

/// <summary>
/// The LoRA branch of a convolution, <c>lora_B(lora_A(x)) · scaling</c>, computed on CPU as two matrix products without
/// unfolding the input. libtorch's CPU convolution (oneDNN is off, see TorchRuntime) unfolds the whole input into a
/// [C_in·k·k, H·W] matrix for every call and again in backward, which for lora_A's r output channels costs about as much
/// as the base convolution itself. Here all k·k taps of lora_A multiply the input at once
/// (Z = [k·k·r, C_in] · [C_in, H·W], reading the input once) and the k·k tap maps, r channels each, are summed at their
/// shifts: by col2im (fold) where the convolution keeps the size, else by zero-padding them and summing k·k slices;
/// lora_B (1×1) is one more product. Same FLOPs as the convolutions, and autograd's backward is plain matrix products
/// and the fold's or the slices' gradients.
/// </summary>
internal static class LoraConvBranch
{
    /// <summary>True for the convolutions this path computes: CPU, groups 1 (dilation is always 1 for LoRA).</summary>
    public static bool Handles(LayerGeometry geometry, Tensor x) =>
        geometry.IsConv && geometry.Groups == 1 && x.device_type == DeviceType.CPU && x.dim() == 4;

    public static Tensor Forward(Tensor x, LayerGeometry geometry, Tensor weightA, Tensor weightB, double scaling)
    {
        using var scope = NewDisposeScope();
        var low = Down(x, geometry, weightA);
        long n = low.shape[0], r = low.shape[1], ho = low.shape[2], wo = low.shape[3];
        // lora_B: [out, r, 1, 1]; the scaling goes on the small weight, not on the full-size output.
        var up = weightB.reshape(weightB.shape[0], r).Mul(scaling).matmul(low.reshape(n, r, ho * wo));
        return up.view(n, weightB.shape[0], ho, wo).MoveToOuterDisposeScope();
    }

    /// <summary><c>lora_A(x)</c>, the r-channel down projection: [n, r, H_out, W_out].</summary>
    public static Tensor Down(Tensor x, LayerGeometry geometry, Tensor weightA)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], r = weightA.shape[0], channels = weightA.shape[1];
        var t = Taps.Of(geometry, x);
        var input = x.reshape(n, channels, t.H * t.W);
        if (t.KeepsSize)
        {
            // Rows (q, tap) with the kernel flipped: col2im (fold) then adds each tap's map at its shift, in one call
            // instead of the k·k slices and additions below (stride 1 and "same" padding make the convolution's gather
            // col2im's scatter with the kernel flipped). It halves LoRA's cost on the embedded model's 3×3 layers,
            // where each call costs more than its arithmetic (docs/perf.md).
            var flipped = weightA.flip(2, 3).reshape(r, channels, t.Count).transpose(1, 2).reshape(r * t.Count, channels);
            var tapMaps = flipped.matmul(input);
            return nn.functional.fold(tapMaps, (t.H, t.W), (t.Kh, t.Kw), padding: (t.Ph, t.Pw)).MoveToOuterDisposeScope();
        }

        // [r, C, kh, kw] → [kh·kw·r, C]: row (i·kw + j)·r + q holds tap (i, j) of output channel q. The tap maps, not
        // the C-channel input, are zero-padded: k·k·r channels instead of C.
        var taps = weightA.permute(2, 3, 0, 1).reshape(t.Count * r, channels);
        var maps = taps.matmul(input).view(n, t.Count * r, t.H, t.W);
        var z = (t.Ph > 0 || t.Pw > 0 ? nn.functional.pad(maps, [t.Pw, t.Pw, t.Ph, t.Ph]) : maps).view(n, t.Count, r, t.PaddedH, t.PaddedW);
        Tensor? low = null;
        for (long i = 0; i < t.Kh; i++)
        {
            for (long j = 0; j < t.Kw; j++)
            {
                var tap = t.Window(z.select(1, i * t.Kw + j), i, j);
                low = low is null ? tap : low.Add(tap);
            }
        }
        return low!.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The gradient of <see cref="Down"/> with respect to lora_A, given the gradient <paramref name="gradLow"/> of its
    /// [n, r, H_out, W_out] output: each tap's gradient map is <paramref name="gradLow"/> shifted into place (by unfold
    /// where Down folds, else without autograd into one zero-filled buffer instead of one per tap), then one product
    /// with the input.
    /// </summary>
    public static Tensor DownWeightGrad(Tensor x, LayerGeometry geometry, Tensor gradLow)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], channels = x.shape[1], r = gradLow.shape[1];
        var t = Taps.Of(geometry, x);
        var inputT = x.reshape(n, channels, t.H * t.W).transpose(1, 2);
        if (t.KeepsSize)
        {
            // Down's fold transposed: the unfolded gradient holds each flipped tap's gradient map, rows (q, tap).
            var flippedMaps = nn.functional.unfold(gradLow, (t.Kh, t.Kw), padding: (t.Ph, t.Pw));
            var flippedGrad = flippedMaps.matmul(inputT).sum(0L);
            return flippedGrad.view(r, t.Kh, t.Kw, channels).permute(0, 3, 1, 2).flip(2, 3).contiguous().MoveToOuterDisposeScope();
        }

        var gradMaps = zeros([n, t.Count, r, t.PaddedH, t.PaddedW], gradLow.dtype, gradLow.device);
        for (long i = 0; i < t.Kh; i++)
        {
            for (long j = 0; j < t.Kw; j++)
            {
                t.Window(gradMaps.select(1, i * t.Kw + j), i, j).copy_(gradLow);
            }
        }
        var unpadded = gradMaps.view(n, t.Count * r, t.PaddedH, t.PaddedW).slice(2, t.Ph, t.Ph + t.H, 1).slice(3, t.Pw, t.Pw + t.W, 1)
            .reshape(n, t.Count * r, t.H * t.W);
        var gradTaps = unpadded.matmul(inputT).sum(0L);
        return gradTaps.view(t.Kh, t.Kw, r, channels).permute(2, 3, 0, 1).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>The kernel taps of a convolution over an H×W input: kernel, stride, padding and the output size.</summary>
    public readonly record struct Taps(long Kh, long Kw, long Sh, long Sw, long Ph, long Pw, long H, long W)
    {
        public static Taps Of(LayerGeometry g, Tensor x) =>
            new(g.KernelSize[0], g.KernelSize[1], g.Stride[0], g.Stride[1], g.Padding[0], g.Padding[1], x.shape[2], x.shape[3]);

        public long Count => Kh * Kw;

        /// <summary>
        /// Stride 1 with "same" padding and more than one tap: the output keeps the input's size and each output pixel
        /// reads the input around it.
        /// </summary>
        public bool KeepsSize => Sh == 1 && Sw == 1 && 2 * Ph == Kh - 1 && 2 * Pw == Kw - 1 && Count > 1;

        public long PaddedH => H + 2 * Ph;
        public long PaddedW => W + 2 * Pw;
        public long OutH => (PaddedH - Kh) / Sh + 1;
        public long OutW => (PaddedW - Kw) / Sw + 1;

        /// <summary>The output-sized window that tap (i, j) reads from a padded [.., PaddedH, PaddedW] map.</summary>
        public Tensor Window(Tensor padded, long i, long j) =>
            padded.slice(-2, i, i + (OutH - 1) * Sh + 1, Sh).slice(-1, j, j + (OutW - 1) * Sw + 1, Sw);
    }
}
