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

    /// <summary>An [m, k] × [k, n] matrix product: 2·m·k·n.</summary>
    public static double MatMul(long m, long k, long n) => 2.0 * m * k * n;
}
