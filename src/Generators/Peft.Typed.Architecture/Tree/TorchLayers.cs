using System.Collections.Generic;

namespace Peft.Typed.Architecture.Tree;

/// <summary>
/// Nodes for the torch.nn classes, with the parameters (names, shapes, registration order) and the
/// hyper-parameters module_details.json records for them.
/// </summary>
internal static class TorchLayers
{
    private static readonly ParameterSpec[] NoParameters = new ParameterSpec[0];
    private static readonly ModuleNode[] NoChildren = new ModuleNode[0];

    /// <summary>nn.Linear: weight [out, in], bias [out].</summary>
    public static ModuleNode Linear(string path, int inFeatures, int outFeatures, bool bias = true) =>
        new ModuleNode(
            path,
            "Linear",
            ModuleOptions.Of(("in_features", inFeatures), ("out_features", outFeatures), ("bias", bias)),
            WeightAndBias(new long[] { outFeatures, inFeatures }, bias ? outFeatures : 0),
            NoChildren);

    /// <summary>nn.Conv2d with a square kernel: weight [out, in, k, k], bias [out].</summary>
    public static ModuleNode Conv2d(string path, int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, bool bias = true) =>
        new ModuleNode(
            path,
            "Conv2d",
            ModuleOptions.Of(
                ("in_channels", inChannels),
                ("out_channels", outChannels),
                ("kernel_size", new[] { kernelSize, kernelSize }),
                ("stride", new[] { stride, stride }),
                ("padding", new[] { padding, padding }),
                ("bias", bias)),
            WeightAndBias(new long[] { outChannels, inChannels, kernelSize, kernelSize }, bias ? outChannels : 0),
            NoChildren);

    /// <summary>nn.GroupNorm(affine=True): weight [C], bias [C].</summary>
    public static ModuleNode GroupNorm(string path, int groups, int channels, double eps) =>
        new ModuleNode(
            path,
            "GroupNorm",
            ModuleOptions.Of(("num_groups", groups), ("num_channels", channels), ("eps", eps), ("affine", true)),
            WeightAndBias(new long[] { channels }, channels),
            NoChildren);

    /// <summary>nn.LayerNorm(elementwise_affine=True) over the last dimension: weight [D], bias [D].</summary>
    public static ModuleNode LayerNorm(string path, int dim, double eps) =>
        new ModuleNode(
            path,
            "LayerNorm",
            ModuleOptions.Of(("normalized_shape", new[] { dim }), ("eps", eps), ("elementwise_affine", true)),
            WeightAndBias(new long[] { dim }, dim),
            NoChildren);

    /// <summary>nn.Embedding: weight [num_embeddings, embedding_dim].</summary>
    public static ModuleNode Embedding(string path, int count, int dim) =>
        new ModuleNode(
            path,
            "Embedding",
            ModuleOptions.Of(("num_embeddings", count), ("embedding_dim", dim)),
            new[] { new ParameterSpec("weight", new long[] { count, dim }) },
            NoChildren);

    public static ModuleNode Dropout(string path, double p) =>
        new ModuleNode(path, "Dropout", ModuleOptions.Of(("p", p)), NoParameters, NoChildren);

    /// <summary>A parameterless activation module (<c>SiLU</c>, <c>QuickGELUActivation</c>, ...).</summary>
    public static ModuleNode Activation(string path, string className) =>
        new ModuleNode(path, className, ModuleOptions.Empty, NoParameters, NoChildren);

    /// <summary>nn.ModuleList: children named 0, 1, ... (built by <paramref name="item"/> from their paths).</summary>
    public static ModuleNode ModuleList(string path, int count, System.Func<string, int, ModuleNode> item)
    {
        var children = new ModuleNode[count];
        for (var i = 0; i < count; i++) children[i] = item(ModulePath.Join(path, i.ToString(System.Globalization.CultureInfo.InvariantCulture)), i);
        return new ModuleNode(path, "ModuleList", ModuleOptions.Empty, NoParameters, children);
    }

    /// <summary>A module class with no parameters of its own.</summary>
    public static ModuleNode Module(string path, string className, ModuleOptions options, IReadOnlyList<ModuleNode> children) =>
        new ModuleNode(path, className, options, NoParameters, children);

    public static ModuleNode Module(string path, string className, params ModuleNode[] children) =>
        new ModuleNode(path, className, ModuleOptions.Empty, NoParameters, children);

    private static ParameterSpec[] WeightAndBias(long[] weightShape, int biasLength) =>
        biasLength > 0
            ? new[] { new ParameterSpec("weight", weightShape), new ParameterSpec("bias", new long[] { biasLength }) }
            : new[] { new ParameterSpec("weight", weightShape) };
}
