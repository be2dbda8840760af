using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters;

/// <summary>
/// The shape of a layer an adapter wraps: a <c>Linear</c> or a <c>Conv2d</c> (any kernel, stride, padding,
/// dilation, groups), read from the TorchSharp module.
/// </summary>
public sealed class LayerGeometry
{
    private LayerGeometry(string kind, long inFeatures, long outFeatures, long[] kernelSize, long[] stride, long[] padding, long[] dilation, long groups)
    {
        Kind = kind;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
        Groups = groups;
    }

    /// <summary><c>Linear</c> or <c>Conv2d</c>.</summary>
    public string Kind { get; }

    public bool IsConv => Kind == "Conv2d";

    /// <summary><c>in_features</c> / <c>in_channels</c>.</summary>
    public long InFeatures { get; }

    /// <summary><c>out_features</c> / <c>out_channels</c>.</summary>
    public long OutFeatures { get; }

    /// <summary>[kh, kw] for a convolution, empty for Linear.</summary>
    public long[] KernelSize { get; }

    public long[] Stride { get; }

    public long[] Padding { get; }

    public long[] Dilation { get; }

    public long Groups { get; }

    /// <summary>A 1×1 convolution, which PEFT treats like a Linear layer.</summary>
    public bool IsPointwise => IsConv && KernelSize[0] == 1 && KernelSize[1] == 1;

    /// <summary>The base weight's shape: [out, in] or [out, in/groups, kh, kw].</summary>
    public long[] WeightShape => IsConv ? [OutFeatures, InFeatures / Groups, KernelSize[0], KernelSize[1]] : [OutFeatures, InFeatures];

    /// <summary>The geometry of <paramref name="layer"/>, or a clear error when adapters cannot wrap it.</summary>
    public static LayerGeometry Of(nn.Module layer, string moduleName) => layer switch
    {
        Linear linear => new LayerGeometry("Linear", linear.in_features, linear.out_features, [], [], [], [], 1),
        Conv2d conv => OfConv(conv, moduleName),
        _ => throw new NotSupportedException($"Module '{moduleName}' is a {ModuleKinds.Of(layer)}; adapters wrap Linear and Conv2d layers."),
    };

    /// <summary>This layer's operation (linear, or conv2d with its stride, padding, dilation and groups) with another weight.</summary>
    public Tensor Apply(Tensor input, Tensor weight, Tensor? bias = null) => IsConv
        ? nn.functional.conv2d(input, weight, bias, Stride, Padding, Dilation, Groups)
        : nn.functional.linear(input, weight, bias);

    private static LayerGeometry OfConv(Conv2d conv, string moduleName)
    {
        if (conv.padding_type is not null || conv.padding is null)
            throw new NotSupportedException($"Conv2d '{moduleName}' uses padding '{conv.padding_type}'; adapters support numeric padding only.");
        if (conv.padding_mode != TorchSharp.PaddingModes.Zeros)
            throw new NotSupportedException($"Conv2d '{moduleName}' uses padding_mode {conv.padding_mode}; adapters support zero padding only.");
        return new LayerGeometry("Conv2d", conv.in_channels, conv.out_channels, conv.kernel_size.ToArray(), conv.stride.ToArray(),
            conv.padding.ToArray(), conv.dilation.ToArray(), conv.groups);
    }
}
