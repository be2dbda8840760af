using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Peft.Typed.Architecture.Targeting;

namespace Peft.Typed.Generators.Analysis;

/// <summary>The library types the analyzer recognises, resolved once per compilation, and the typed classes of it.</summary>
internal sealed class TargetSymbols
{
    private TargetSymbols(INamedTypeSymbol targetSet, INamedTypeSymbol? moduleScope, INamedTypeSymbol? targetModules,
        INamedTypeSymbol? typedModel, INamedTypeSymbol? adapterConfig, IReadOnlyDictionary<string, AnalyzedModel> models)
    {
        TargetSet = targetSet;
        ModuleScope = moduleScope;
        TargetModules = targetModules;
        TypedModel = typedModel;
        AdapterConfig = adapterConfig;
        Models = models;
    }

    public INamedTypeSymbol TargetSet { get; }
    public INamedTypeSymbol? ModuleScope { get; }
    public INamedTypeSymbol? TargetModules { get; }
    public INamedTypeSymbol? TypedModel { get; }
    public INamedTypeSymbol? AdapterConfig { get; }

    /// <summary>The typed classes by full name (<c>MyApp.Sd15Unet</c>).</summary>
    public IReadOnlyDictionary<string, AnalyzedModel> Models { get; }

    /// <summary>Null when the compilation does not reference the targeting types (nothing to check then).</summary>
    public static TargetSymbols? Resolve(Compilation compilation, IReadOnlyDictionary<string, AnalyzedModel> models)
    {
        var targetSet = compilation.GetTypeByMetadataName("Peft.Typed.Architecture.Targeting.TargetSet");
        if (targetSet is null) return null;
        return new TargetSymbols(
            targetSet,
            compilation.GetTypeByMetadataName("Peft.Typed.Architecture.Targeting.ModuleScope"),
            compilation.GetTypeByMetadataName("Peft.Typed.Architecture.Targeting.TargetModules"),
            compilation.GetTypeByMetadataName("Peft.Typed.Models.Typed.TypedModel"),
            compilation.GetTypeByMetadataName("Peft.Typed.Models.Adapters.AdapterConfig"),
            models);
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
            var name = t.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
            if (name.StartsWith("global::", System.StringComparison.Ordinal)) name = name.Substring("global::".Length);
            if (Models.TryGetValue(name, out var model)) return model;
        }
        return null;
    }

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
