using System;
using System.Collections.Generic;
using System.Linq;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Targeting;
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

    /// <summary>
    /// The model a generated class describes, from the constants the generator wrote into its <c>Targets</c>
    /// (<c>RootClass</c>, <c>ModuleListing</c>, <c>SpatialConvolutions</c>); null when they are not a model's.
    /// </summary>
    public static AnalyzedModel? FromGenerated(string className, string rootClass, string listing, string spatialConvolutions)
    {
        if (!Enum.TryParse<ArchitectureKind>(rootClass, out var kind)) return null;
        ModuleCatalog catalog;
        try
        {
            catalog = ModuleCatalog.FromListing(className, rootClass, listing);
        }
        catch (ArgumentException)
        {
            return null;
        }
        var spatial = new HashSet<string>(spatialConvolutions.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0), StringComparer.Ordinal);
        return new AnalyzedModel(TargetShape.Create(catalog, kind), spatial);
    }

    /// <summary>True when some module of <paramref name="set"/> is a Conv2d whose kernel is larger than 1x1 (what use_effective_conv2d changes).</summary>
    public bool HasSpatialConvolution(TargetSet set) => set.Names.Any(_spatialConvolutions.Contains);
}
