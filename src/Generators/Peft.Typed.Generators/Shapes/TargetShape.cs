using System;
using System.Collections.Generic;
using System.Linq;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Generators.Emit;

namespace Peft.Typed.Generators.Shapes;

/// <summary>
/// The members of a typed class's <c>Targets</c> and <c>Scopes</c>, computed from its module list. The emitter
/// writes them and the analyzer evaluates them, so a property name means the same module set in both.
/// </summary>
internal sealed class TargetShape
{
    /// <summary>Names <c>Targets</c> and <c>ScopedTargets</c> themselves define; a leaf selector never takes one of them.</summary>
    public static readonly IReadOnlyCollection<string> ReservedTargetNames = new[]
    {
        "Modules", "Catalog", "RootClass", "ModuleListing", "SpatialConvolutions", "All", "AllLinear", "AllConv2d", "Minimal", "Comprehensive", "Named", "Matching", "Scope", "Equals", "ReferenceEquals",
        "ToString", "GetHashCode", "GetType",
    };

    private readonly Dictionary<string, TargetSet> _sets = new(StringComparer.Ordinal);
    private readonly List<string> _setProperties = new();
    private readonly Dictionary<string, ModuleScope> _scopes = new(StringComparer.Ordinal);

    private TargetShape(ModuleCatalog catalog, IReadOnlyList<LeafSelector> selectors, IReadOnlyList<ScopeSelector> scopes, IReadOnlyList<PresetSelector> presets)
    {
        Catalog = catalog;
        Selectors = selectors;
        Scopes = scopes;
        Presets = presets;
        AddSet("All", catalog.All);
        foreach (var kind in new[] { "Linear", "Conv2d" })
        {
            var ofKind = catalog.OfKind(kind);
            if (!ofKind.IsEmpty) AddSet("All" + kind, ofKind);
        }
        foreach (var selector in selectors) AddSet(selector.PropertyName, selector.Set);
        foreach (var preset in presets) AddSet(preset.PropertyName, preset.Set);
        foreach (var scope in scopes) _scopes[scope.PropertyName] = scope.Scope;
    }

    public ModuleCatalog Catalog { get; }

    /// <summary>One selector per distinct leaf name (<c>ToQ</c> for <c>to_q</c>), in registration order.</summary>
    public IReadOnlyList<LeafSelector> Selectors { get; }

    /// <summary>One scope per scope name (<c>DownBlocks</c>, <c>Attn2</c>).</summary>
    public IReadOnlyList<ScopeSelector> Scopes { get; }

    /// <summary>The seed scripts' lists for this kind of model (none for a VAE).</summary>
    public IReadOnlyList<PresetSelector> Presets { get; }

    public static TargetShape Create(string modelName, ArchitectureKind kind, IReadOnlyList<ModuleEntry> modules) =>
        Create(new ModuleCatalog(modelName, modules), kind);

    public static TargetShape Create(ModuleCatalog catalog, ArchitectureKind kind)
    {
        var taken = new HashSet<string>(ReservedTargetNames, StringComparer.Ordinal);
        var selectors = catalog.LeafNames
            .Select(leaf => new LeafSelector(Identifiers.Unique(Identifiers.Pascal(leaf), taken), leaf, catalog.Leaf(leaf)))
            .ToList();
        var scopeNames = new HashSet<string>(StringComparer.Ordinal);
        var scopes = catalog.ScopeNames
            .Select(name => new ScopeSelector(Identifiers.Unique(Identifiers.Pascal(name), scopeNames), name, catalog.Scope(name)))
            .ToList();
        var presets = new List<PresetSelector>();
        if (kind == ArchitectureKind.UNet2DConditionModel)
        {
            presets.Add(Preset(catalog, "Minimal", nameof(SeedTargetLists.UnetMinimal), SeedTargetLists.UnetMinimal, "PEFT's lora_dreambooth script",
                " The script also lists <c>query</c> and <c>value</c>, attention names of diffusers before 0.14 that match nothing."));
            presets.Add(Preset(catalog, "Comprehensive", nameof(SeedTargetLists.UnetComprehensive), SeedTargetLists.UnetComprehensive, "PEFT's stable_diffusion/train_dreambooth.py"));
        }
        else if (kind is ArchitectureKind.CLIPTextModel or ArchitectureKind.CLIPTextModelWithProjection)
        {
            presets.Add(Preset(catalog, "Minimal", nameof(SeedTargetLists.TextEncoderMinimal), SeedTargetLists.TextEncoderMinimal, "PEFT's lora_dreambooth script"));
            presets.Add(Preset(catalog, "Comprehensive", nameof(SeedTargetLists.TextEncoderComprehensive), SeedTargetLists.TextEncoderComprehensive, "PEFT's stable_diffusion/train_dreambooth.py"));
        }
        return new TargetShape(catalog, selectors, scopes, presets);
    }

    /// <summary>
    /// Every property of <c>Targets</c> that holds a set, in the order it is written: <c>All</c>, <c>AllLinear</c> and
    /// <c>AllConv2d</c> where the model has such layers, the leaf selectors, the presets. <c>ScopedTargets</c> has the same.
    /// </summary>
    public IReadOnlyList<string> SetProperties => _setProperties;

    /// <summary>The set a static property of <c>Targets</c> holds (selectors, presets, All...), or null for another member.</summary>
    public TargetSet? SetOf(string propertyName) => _sets.TryGetValue(propertyName, out var set) ? set : null;

    /// <summary>The scope a static property of <c>Scopes</c> holds, or null.</summary>
    public ModuleScope? ScopeOf(string propertyName) => _scopes.TryGetValue(propertyName, out var scope) ? scope : null;

    private void AddSet(string property, TargetSet set)
    {
        _sets[property] = set;
        _setProperties.Add(property);
    }

    private static PresetSelector Preset(ModuleCatalog catalog, string property, string listField, IReadOnlyList<string> names, string source, string note = "") =>
        new(property, listField, names, source, note, catalog.Preset(names));
}

/// <summary><c>Targets.ToQ</c>: the adaptable modules PEFT's list <c>["to_q"]</c> selects.</summary>
internal sealed record LeafSelector(string PropertyName, string LeafName, TargetSet Set);

/// <summary><c>Scopes.DownBlocks</c>: every module named <c>down_blocks</c>.</summary>
internal sealed record ScopeSelector(string PropertyName, string Name, ModuleScope Scope);

/// <summary><c>Targets.Minimal</c>: a seed script's list, as <see cref="SeedTargetLists"/> keeps it.</summary>
internal sealed record PresetSelector(string PropertyName, string ListField, IReadOnlyList<string> Names, string Source, string Note, TargetSet Set);
