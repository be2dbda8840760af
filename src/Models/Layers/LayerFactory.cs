using Peft.Typed.Architecture.Tree;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>
/// Creates the torch.nn leaf modules (Linear, Conv2d, norms, ...) of a module tree from their nodes, on one device and
/// dtype. Build on <see cref="Meta"/> to get exact names and shapes of a large model without allocating its weights.
/// </summary>
public sealed class LayerFactory
{
    public LayerFactory(Device? device = null, ScalarType? dtype = null)
    {
        Device = device ?? CPU;
        DType = dtype ?? float32;
    }

    /// <summary>CPU, float32.</summary>
    public static LayerFactory Default { get; } = new();

    /// <summary>The meta device: parameters have shapes and dtypes but no storage.</summary>
    public static LayerFactory Meta { get; } = new(new Device(DeviceType.META));

    public Device Device { get; }
    public ScalarType DType { get; }

    public Linear Linear(ModuleNode node)
    {
        Expect(node, "Linear");
        return nn.Linear(node.Options.GetInt("in_features"), node.Options.GetInt("out_features"), node.Options.GetBool("bias"), Device, DType);
    }

    public Conv2d Conv2d(ModuleNode node)
    {
        Expect(node, "Conv2d");
        var o = node.Options;
        return nn.Conv2d(o.GetInt("in_channels"), o.GetInt("out_channels"), Pair(node, "kernel_size"), Pair(node, "stride"), Pair(node, "padding"),
            bias: o.GetBool("bias"), device: Device, dtype: DType);
    }

    public GroupNorm GroupNorm(ModuleNode node)
    {
        Expect(node, "GroupNorm");
        var o = node.Options;
        return new GroupNorm(o.GetInt("num_groups"), o.GetInt("num_channels"), o.GetDouble("eps"), o.GetBool("affine"), Device, DType);
    }

    public LayerNorm LayerNorm(ModuleNode node)
    {
        Expect(node, "LayerNorm");
        var o = node.Options;
        return nn.LayerNorm(o.GetIntList("normalized_shape").ToArray(), o.GetDouble("eps"), o.GetBool("elementwise_affine"), device: Device, dtype: DType);
    }

    public Embedding Embedding(ModuleNode node)
    {
        Expect(node, "Embedding");
        return new Embedding(node.Options.GetInt("num_embeddings"), node.Options.GetInt("embedding_dim"), Device, DType);
    }

    public static Dropout Dropout(ModuleNode node)
    {
        Expect(node, "Dropout");
        return nn.Dropout(node.Options.GetDouble("p"));
    }

    /// <summary>A parameterless activation module registered in the tree (<c>SiLU</c>, <c>QuickGELUActivation</c>, ...).</summary>
    public static nn.Module<Tensor, Tensor> Activation(ModuleNode node) => node.ClassName switch
    {
        "SiLU" => nn.SiLU(),
        "Mish" => nn.Mish(),
        "GELU" => nn.GELU(),
        "ReLU" => nn.ReLU(),
        nameof(QuickGELUActivation) => new QuickGELUActivation(),
        nameof(GELUActivation) => new GELUActivation(),
        _ => throw new NotSupportedException(
            $"Module '{node.Path}': activation class '{node.ClassName}' is not supported (SiLU, Mish, GELU, ReLU, QuickGELUActivation, GELUActivation)."),
    };

    /// <summary>Throws when the tree says this node is another class than the module about to be built from it.</summary>
    public static void Expect(ModuleNode node, string className)
    {
        if (node.ClassName != className)
            throw new ArgumentException($"Module '{node.Path}' is a {node.ClassName}, expected {className}.", nameof(node));
    }

    private static (long, long) Pair(ModuleNode node, string key)
    {
        var values = node.Options.GetIntList(key);
        if (values.Count != 2) throw new ArgumentException($"Module '{node.Path}': option '{key}' must have 2 values, got {values.Count}.", nameof(node));
        return (values[0], values[1]);
    }
}
