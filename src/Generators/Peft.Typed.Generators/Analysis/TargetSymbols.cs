using System.Collections.Concurrent;
using System.Linq;
using Microsoft.CodeAnalysis;
using Peft.Typed.Architecture.Targeting;

namespace Peft.Typed.Generators.Analysis;

/// <summary>
/// The library types the analyzer recognises, resolved once per compilation, and the typed classes it meets. A typed
/// class is known by the constants the generator wrote into its <c>Targets</c>, so the analyzer reads the generator's
/// parsing of the config.json instead of parsing the AdditionalFiles again; a class the generator did not emit (a file
/// with errors, a class name claimed twice) is simply not there. What is read lives as long as the compilation.
/// </summary>
internal sealed class TargetSymbols
{
    private TargetSymbols(INamedTypeSymbol targetSet, INamedTypeSymbol? moduleScope, INamedTypeSymbol? targetModules,
        INamedTypeSymbol? typedModel, INamedTypeSymbol? typedModelOf, INamedTypeSymbol? adapterConfig)
    {
        TargetSet = targetSet;
        ModuleScope = moduleScope;
        TargetModules = targetModules;
        TypedModel = typedModel;
        TypedModelOf = typedModelOf;
        AdapterConfig = adapterConfig;
    }

    private readonly ConcurrentDictionary<INamedTypeSymbol, AnalyzedModel?> _models = new(SymbolEqualityComparer.Default);

    public INamedTypeSymbol TargetSet { get; }
    public INamedTypeSymbol? ModuleScope { get; }
    public INamedTypeSymbol? TargetModules { get; }
    public INamedTypeSymbol? TypedModel { get; }
    public INamedTypeSymbol? AdapterConfig { get; }

    /// <summary><c>TypedModel&lt;TModel&gt;</c>, the base of every generated class.</summary>
    private INamedTypeSymbol? TypedModelOf { get; }

    /// <summary>Null when the compilation does not reference the targeting types (nothing to check then).</summary>
    public static TargetSymbols? Resolve(Compilation compilation)
    {
        var targetSet = compilation.GetTypeByMetadataName("Peft.Typed.Architecture.Targeting.TargetSet");
        if (targetSet is null) return null;
        return new TargetSymbols(
            targetSet,
            compilation.GetTypeByMetadataName("Peft.Typed.Architecture.Targeting.ModuleScope"),
            compilation.GetTypeByMetadataName("Peft.Typed.Architecture.Targeting.TargetModules"),
            compilation.GetTypeByMetadataName("Peft.Typed.Models.Typed.TypedModel"),
            compilation.GetTypeByMetadataName("Peft.Typed.Models.Typed.TypedModel`1"),
            compilation.GetTypeByMetadataName("Peft.Typed.Models.Adapters.AdapterConfig"));
    }

    public bool IsTargetSet(ITypeSymbol? type) => SymbolEqualityComparer.Default.Equals(type, TargetSet);

    public bool IsModuleScope(ITypeSymbol? type) => ModuleScope is not null && SymbolEqualityComparer.Default.Equals(type, ModuleScope);

    public bool IsTargetModules(ITypeSymbol? type) => TargetModules is not null && SymbolEqualityComparer.Default.Equals(type, TargetModules);

    /// <summary>The model whose nested class <paramref name="nested"/> is (<c>Sd15Unet.Targets</c> with name "Targets").</summary>
    public AnalyzedModel? ModelOfNested(INamedTypeSymbol? nested, string nestedName)
    {
        if (nested is null || nested.Name != nestedName || nested.ContainingType is null) return null;
        return ModelOf(nested.ContainingType);
    }

    /// <summary>The model of a typed class (or of a type deriving from it).</summary>
    public AnalyzedModel? ModelOf(ITypeSymbol? type)
    {
        for (var t = type as INamedTypeSymbol; t is not null; t = t.BaseType)
        {
            if (TypedModelOf is not null && SymbolEqualityComparer.Default.Equals(t.BaseType?.OriginalDefinition, TypedModelOf))
                return _models.GetOrAdd(t, Read);
        }
        return null;
    }

    /// <summary>The model a generated class carries in <c>Targets.RootClass</c>, <c>ModuleListing</c> and <c>SpatialConvolutions</c>.</summary>
    private static AnalyzedModel? Read(INamedTypeSymbol typedClass)
    {
        var targets = typedClass.GetTypeMembers("Targets").FirstOrDefault();
        if (targets is null) return null;
        var root = Constant(targets, "RootClass");
        var listing = Constant(targets, "ModuleListing");
        var spatial = Constant(targets, "SpatialConvolutions");
        return root is null || listing is null || spatial is null ? null : AnalyzedModel.FromGenerated(typedClass.Name, root, listing, spatial);
    }

    private static string? Constant(INamedTypeSymbol type, string name) =>
        type.GetMembers(name).OfType<IFieldSymbol>().FirstOrDefault(f => f.IsConst)?.ConstantValue as string;

    /// <summary>True for an adapter config type (<c>LoraConfig</c>, ...).</summary>
    public bool IsAdapterConfig(ITypeSymbol? type)
    {
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(t, AdapterConfig)) return true;
        }
        return false;
    }

    /// <summary>"LoRA", "LoHa", "LoKr" for the config classes; "an adapter" otherwise.</summary>
    public static string AdapterName(ITypeSymbol? configType) => TargetMessages.AdapterName(configType?.Name);
}
