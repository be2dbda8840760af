using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Vae;

/// <summary>
/// diffusers <c>DiagonalGaussianDistribution</c>, the VAE posterior: <c>mean, logvar = moments.chunk(2, dim: 1)</c> with
/// logvar clamped to [-30, 20], <c>std = exp(0.5 logvar)</c>. Its tensors belong to the dispose scope it was created in.
/// </summary>
public sealed class DiagonalGaussianDistribution
{
    /// <param name="parameters">The <c>quant_conv</c> output, [B, 2 * latent_channels, h, w].</param>
    public DiagonalGaussianDistribution(Tensor parameters)
    {
        using var scope = NewDisposeScope();
        var moments = parameters.chunk(2, dim: 1);
        Mean = moments[0].MoveToOuterDisposeScope();
        LogVar = moments[1].Clamp(-30.0, 20.0).MoveToOuterDisposeScope();
        Std = LogVar.Mul(0.5).exp().MoveToOuterDisposeScope();
        Var = LogVar.exp().MoveToOuterDisposeScope();
    }

    public Tensor Mean { get; }
    public Tensor LogVar { get; }
    public Tensor Std { get; }
    public Tensor Var { get; }

    /// <summary>The most likely latent: the mean.</summary>
    public Tensor Mode() => Mean;

    /// <summary><c>mean + std * noise</c> for a given standard normal <paramref name="noise"/> of the mean's shape.</summary>
    public Tensor Sample(Tensor noise)
    {
        if (!noise.shape.SequenceEqual(Mean.shape))
            throw new ArgumentException($"noise must have the posterior's shape [{string.Join(", ", Mean.shape)}], got [{string.Join(", ", noise.shape)}].", nameof(noise));
        return Mean.Add(Std * noise.to(Mean.device).to_type(Mean.dtype));
    }

    /// <summary>A sample drawn with <paramref name="generator"/> (or the global generator).</summary>
    public Tensor Sample(Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var noise = randn(Mean.shape, dtype: Mean.dtype, device: Mean.device, generator: generator);
        return Sample(noise).MoveToOuterDisposeScope();
    }
}
