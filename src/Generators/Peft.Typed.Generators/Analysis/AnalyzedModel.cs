using System.Collections.Generic;
using System.Linq;
using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Architecture.Tree;
using Peft.Typed.Generators.Shapes;

namespace Peft.Typed.Generators.Analysis;

/// <summary>What the analyzer knows of one typed class: its target shape and which Conv2d layers have a kernel larger than 1x1.</summary>
internal sealed class AnalyzedModel
{
    private readonly HashSet<string> _spatialConvolutions;

    private AnalyzedModel(TargetShape shape, HashSet<string> spatialConvolutions)
    {
        Shape = shape;
        _spatialConvolutions = spatialConvolutions;
    }

    public TargetShape Shape { get; }

    public ModuleCatalog Catalog => Shape.Catalog;

    public static AnalyzedModel Create(string className, ArchitectureDescription description)
    {
        var tree = description.BuildTree();
        var modules = tree.Modules.Select(m => new ModuleEntry(m.Path, m.ClassName)).ToArray();
        var spatial = new HashSet<string>(tree.Modules.Where(IsSpatialConvolution).Select(m => m.Path));
        return new AnalyzedModel(TargetShape.Create(className, description.Kind, modules), spatial);
    }

    /// <summary>True when some module of <paramref name="set"/> is a Conv2d whose kernel is larger than 1x1 (what use_effective_conv2d changes).</summary>
    public bool HasSpatialConvolution(TargetSet set) => set.Names.Any(_spatialConvolutions.Contains);

    private static bool IsSpatialConvolution(ModuleNode node) =>
        node.ClassName == "Conv2d" && node.Options.GetIntList("kernel_size").Any(k => k > 1);
}
