namespace Peft.Typed.Benchmarks.Flops;

/// <summary>
/// Floating-point operations of the matrix products in a model, counting a multiply-add as 2 FLOPs (biases,
/// normalisations, activations, softmax and element-wise work are not counted: they are a small fraction).
/// </summary>
public static class FlopFormulas
{
    /// <summary>A convolution: each output element sums (in_channels / groups)·k_h·k_w products: 2·B·C_out·H_out·W_out·(C_in/groups)·k_h·k_w.</summary>
    public static double Conv2d(long batch, long inChannels, long outChannels, long kernelHeight, long kernelWidth, long outHeight, long outWidth, long groups = 1) =>
        2.0 * batch * outChannels * outHeight * outWidth * (inChannels / groups) * kernelHeight * kernelWidth;

    /// <summary>A linear layer applied to <paramref name="rows"/> vectors (all leading dimensions): 2·rows·in·out.</summary>
    public static double Linear(long rows, long inFeatures, long outFeatures) => 2.0 * rows * inFeatures * outFeatures;

    /// <summary>
    /// The two products of scaled dot-product attention, summed over heads (heads·dim_head = <paramref name="innerDim"/>):
    /// scores Q·Kᵀ (2·B·N·M·inner) and the weighted values softmax·V (2·B·N·M·inner).
    /// </summary>
    public static double Attention(long batch, long queries, long keys, long innerDim) => 4.0 * batch * queries * keys * innerDim;

    /// <summary>
    /// The backward of a Linear or Conv2d call whose forward product costs <paramref name="forward"/>: the input
    /// gradient (the output gradient times the weight) if the input needs one, the weight gradient (the output gradient
    /// times the input) if the weight trains; each costs as much as the forward product.
    /// </summary>
    public static double LayerBackward(double forward, bool inputGradient, bool weightGradient) =>
        forward * ((inputGradient ? 1 : 0) + (weightGradient ? 1 : 0));

    /// <summary>
    /// The backward of <see cref="Attention"/>'s two products (scores S = Q·Kᵀ, output O = P·V with P = softmax(S)),
    /// each 2·B·N·M·inner: dV = Pᵀ·dO if V needs a gradient; dP = dO·Vᵀ if Q or K does (dS follows element-wise), then
    /// dQ = dS·K and dK = dSᵀ·Q for those that need one. Recomputing S (as a fused kernel does) is not counted.
    /// </summary>
    public static double AttentionBackward(long batch, long queries, long keys, long innerDim, bool queryGradient, bool keyGradient, bool valueGradient)
    {
        int products = (valueGradient ? 1 : 0) + (queryGradient || keyGradient ? 1 : 0) + (queryGradient ? 1 : 0) + (keyGradient ? 1 : 0);
        return products * 2.0 * batch * queries * keys * innerDim;
    }

    /// <summary>An [m, k] × [k, n] matrix product: 2·m·k·n.</summary>
    public static double MatMul(long m, long k, long n) => 2.0 * m * k * n;
}
