using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary>
/// A PEFT fixture's base module, built from its module.json <see cref="TinySdSpec"/>: module names equal the fixture's
/// keys and the forward follows the README pseudo-code. Linear/Conv2d fields are typed <c>Module&lt;Tensor, Tensor&gt;</c>
/// so adapters can replace them.
/// </summary>
internal sealed class TinySdModule : nn.Module
{
    private readonly TinyUNet unet;
    private readonly TinyTextEncoder text_encoder;

    public TinySdModule(TinySdSpec spec) : base(nameof(TinySdModule))
    {
        unet = new TinyUNet(spec);
        text_encoder = new TinyTextEncoder(spec);
        RegisterComponents();
    }

    public (Tensor Unet, Tensor Text) Forward(Tensor sample, Tensor tembIn, Tensor context, Tensor textHidden)
    {
        using var scope = NewDisposeScope();
        var unetOut = unet.forward(sample, tembIn, context);
        var textOut = text_encoder.forward(textHidden);
        return (unetOut.MoveToOuterDisposeScope(), textOut.MoveToOuterDisposeScope());
    }

    /// <summary>Self/cross attention with <paramref name="heads"/> heads: softmax(q kᵀ / √d [+ causal mask]) v.</summary>
    internal static Tensor Attend(Tensor q, Tensor k, Tensor v, int heads, bool causal)
    {
        using var scope = NewDisposeScope();
        long batch = q.shape[0], queries = q.shape[1], keys = k.shape[1], dim = q.shape[2], headDim = dim / heads;
        var qh = q.view(batch, queries, heads, headDim).transpose(1, 2);
        var kh = k.view(batch, keys, heads, headDim).transpose(1, 2);
        var vh = v.view(batch, keys, heads, headDim).transpose(1, 2);
        var scores = qh.matmul(kh.transpose(-1, -2)).Div(Math.Sqrt(headDim));
        if (causal)
        {
            var mask = ones(queries, keys, dtype: ScalarType.Bool, device: q.device).triu(1);
            scores = scores.MaskedFill(mask, double.NegativeInfinity);
        }
        var output = scores.softmax(-1).matmul(vh).transpose(1, 2).reshape(batch, queries, dim);
        return output.MoveToOuterDisposeScope();
    }

    internal static nn.Module<Tensor, Tensor> Linear(long inFeatures, long outFeatures, bool bias = true) => nn.Linear(inFeatures, outFeatures, hasBias: bias);

    internal static nn.Module<Tensor, Tensor> Conv(long inChannels, long outChannels, long kernel, long stride = 1, long padding = 0) =>
        nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: padding);

    /// <summary>A GroupNorm with weight 1 and bias 0 (TorchSharp 0.107 leaves them uninitialised).</summary>
    internal static TorchSharp.Modules.GroupNorm GroupNorm(long groups, long channels)
    {
        var norm = nn.GroupNorm(groups, channels, eps: 1e-5);
        using var noGrad = no_grad();
        norm.weight!.FillInPlace(1);
        norm.bias!.FillInPlace(0);
        return norm;
    }
}
