using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using Peft.Typed.Architecture.Settings;
using Peft.Typed.Generators.Diagnostics;

namespace Peft.Typed.Generators.Analysis;

/// <summary>
/// The setting rules of <see cref="SettingAnalyzer"/> on adapter configs built with constants, in object initialisers
/// (<c>new LoraConfig { R = 0 }</c>) and <c>with</c> expressions (<c>config with { LoraDropout = 1.5 }</c>): values out
/// of range (PT0014-PT0017, the wording of <see cref="AdapterSettings"/>, which the config classes throw at run time),
/// and, when the typed model is known, pattern keys, exclusions and modules to save that name no module (PT0018) or
/// pattern keys that never apply (PT0019). The model is the one the config is passed to (<c>WithAdapter</c>) or the one
/// its typed <c>TargetModules</c> come from. Each finding is reported at the constant it is about.
/// </summary>
internal sealed class SettingChecks
{
    /// <summary>C# property → PEFT field, for the properties holding one number.</summary>
    private static readonly Dictionary<string, string> NumberFields = new()
    {
        ["R"] = "r",
        ["LoraAlpha"] = "lora_alpha",
        ["Alpha"] = "alpha",
        ["LoraDropout"] = "lora_dropout",
        ["RankDropout"] = "rank_dropout",
        ["ModuleDropout"] = "module_dropout",
        ["DecomposeFactor"] = "decompose_factor",
    };

    private readonly TargetSymbols _symbols;
    private readonly TargetChecks _targets;
    private readonly TargetEvaluator _evaluator;

    public SettingChecks(TargetSymbols symbols)
    {
        _symbols = symbols;
        _targets = new TargetChecks(symbols);
        _evaluator = new TargetEvaluator(symbols);
    }

    public void AnalyzeConfig(OperationAnalysisContext context)
    {
        var (config, initializer) = context.Operation switch
        {
            IObjectCreationOperation creation => (creation, creation.Initializer),
            IWithOperation with => ((IOperation)with, with.Initializer),
            _ => (context.Operation, null),
        };
        if (initializer is null || !_symbols.IsAdapterConfig(config.Type)) return;
        var assignments = initializer.Initializers.OfType<ISimpleAssignmentOperation>()
            .Where(a => a.Target is IPropertyReferenceOperation)
            .ToDictionary(a => ((IPropertyReferenceOperation)a.Target).Property.Name, a => a.Value);

        foreach (var pair in assignments)
        {
            if (NumberFields.TryGetValue(pair.Key, out var field)) CheckNumber(context, field, pair.Value);
        }
        var rankPattern = assignments.TryGetValue("RankPattern", out var rank) ? PatternEntries(rank) : null;
        var alphaPattern = assignments.TryGetValue("AlphaPattern", out var alpha) ? PatternEntries(alpha) : null;
        foreach (var entry in rankPattern ?? Enumerable.Empty<PatternEntry>())
        {
            if (entry.Value is { } value && AdapterSettings.PatternRank(entry.Key ?? "", System.Convert.ToInt64(value)) is { } problem)
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.RankNotPositive, entry.ValueLocation, problem));
        }
        foreach (var entry in alphaPattern ?? Enumerable.Empty<PatternEntry>())
        {
            if (entry.Value is { } value && AdapterSettings.PatternAlpha(entry.Key ?? "", System.Convert.ToDouble(value)) is { } problem)
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.AlphaNotPositive, entry.ValueLocation, problem));
        }

        var model = _targets.ModelOfConfig(config)
            ?? (assignments.TryGetValue("TargetModules", out var targets) ? _evaluator.Set(targets)?.Model : null);
        if (model is null) return;
        var modules = model.Catalog.Modules;
        var name = model.Catalog.ModelName;
        if (rankPattern is not null) CheckPatternKeys(context, ModuleKeys.RankPattern, rankPattern, modules, name);
        if (alphaPattern is not null) CheckPatternKeys(context, ModuleKeys.AlphaPattern, alphaPattern, modules, name);
        if (assignments.TryGetValue("ModulesToSave", out var toSave))
        {
            foreach (var (entry, location) in StringElements(toSave))
                Report(context, DiagnosticDescriptors.EntryMatchesNoModule, location, ModuleKeys.Unmatched(ModuleKeys.ModulesToSave, entry, modules, name));
        }
        if (assignments.TryGetValue("ExcludeModules", out var exclude)
            && TargetEvaluator.Unwrap(exclude) is IInvocationOperation call && _symbols.IsTargetModules(call.TargetMethod.ContainingType))
        {
            if (call.TargetMethod.Name == "FromNames")
            {
                foreach (var (value, location) in ConstantStrings.Of(call) ?? [])
                {
                    if (!string.IsNullOrEmpty(value))
                        Report(context, DiagnosticDescriptors.EntryMatchesNoModule, location, ModuleKeys.Unmatched(ModuleKeys.ExcludeModules, value!, modules, name));
                }
            }
            else if (call.TargetMethod.Name == "FromRegex" && call.Arguments.Length == 1 && call.Arguments[0].Value.ConstantValue.Value is string pattern)
            {
                Report(context, DiagnosticDescriptors.EntryMatchesNoModule, call.Arguments[0].Value.Syntax.GetLocation(),
                    ModuleKeys.UnmatchedRegex(ModuleKeys.ExcludeModules, pattern, modules, name));
            }
        }
    }

    private static void CheckNumber(OperationAnalysisContext context, string field, IOperation value)
    {
        if (!value.ConstantValue.HasValue || value.ConstantValue.Value is not { } constant) return;
        var number = System.Convert.ToDouble(constant, System.Globalization.CultureInfo.InvariantCulture);
        var (descriptor, problem) = field switch
        {
            "r" => (DiagnosticDescriptors.RankNotPositive, AdapterSettings.Rank((long)number)),
            "lora_alpha" or "alpha" => (DiagnosticDescriptors.AlphaNotPositive, AdapterSettings.Alpha(field, number)),
            "decompose_factor" => (DiagnosticDescriptors.InvalidDecomposeFactor, AdapterSettings.DecomposeFactor((long)number)),
            _ => (DiagnosticDescriptors.DropoutOutOfRange, AdapterSettings.Dropout(field, number)),
        };
        Report(context, descriptor, value.Syntax.GetLocation(), problem);
    }

    /// <summary>PT0018 for each constant key naming no module; PT0019 for a key the earlier keys shadow (only when every key is constant).</summary>
    private static void CheckPatternKeys(OperationAnalysisContext context, string field, IReadOnlyList<PatternEntry> entries,
        IReadOnlyList<Architecture.Targeting.ModuleEntry> modules, string model)
    {
        foreach (var entry in entries)
        {
            if (entry.Key is not null) Report(context, DiagnosticDescriptors.EntryMatchesNoModule, entry.KeyLocation, ModuleKeys.Unmatched(field, entry.Key, modules, model));
        }
        if (entries.Any(e => e.Key is null)) return;
        var keys = entries.Select(e => e.Key!).ToList();
        for (int i = 1; i < keys.Count; i++)
            Report(context, DiagnosticDescriptors.PatternKeyShadowed, entries[i].KeyLocation, ModuleKeys.Shadowed(field, keys, i, modules, model));
    }

    private static void Report(OperationAnalysisContext context, DiagnosticDescriptor descriptor, Location location, string? message)
    {
        if (message is not null) context.ReportDiagnostic(Diagnostic.Create(descriptor, location, message));
    }

    /// <summary>
    /// The entries of a <c>RankPattern</c>/<c>AlphaPattern</c> value written as a list of pairs: <c>[new("to_q", 4)]</c>,
    /// <c>new[] { new KeyValuePair&lt;string, int&gt;("to_q", 4) }</c> or a <c>List</c> initialiser; null for anything else.
    /// A key or value that is not a constant is null.
    /// </summary>
    private static IReadOnlyList<PatternEntry>? PatternEntries(IOperation value)
    {
        var elements = Elements(value);
        if (elements is null) return null;
        var entries = new List<PatternEntry>();
        foreach (var element in elements)
        {
            if (TargetEvaluator.Unwrap(element) is not IObjectCreationOperation { Arguments.Length: 2 } pair) return null;
            var key = pair.Arguments[0].Value;
            var number = pair.Arguments[1].Value;
            entries.Add(new PatternEntry(
                key.ConstantValue.Value as string, key.Syntax.GetLocation(),
                number.ConstantValue.HasValue ? number.ConstantValue.Value : null, number.Syntax.GetLocation()));
        }
        return entries;
    }

    /// <summary>The constant strings of a list value (<c>["norm_out"]</c>, <c>new[] { ... }</c>, a <c>List</c> initialiser).</summary>
    private static IEnumerable<(string Value, Location Location)> StringElements(IOperation value)
    {
        foreach (var element in Elements(value) ?? [])
        {
            if (element.ConstantValue.Value is string text) yield return (text, element.Syntax.GetLocation());
        }
    }

    private static IEnumerable<IOperation>? Elements(IOperation value) => TargetEvaluator.Unwrap(value) switch
    {
        ICollectionExpressionOperation collection => collection.Elements,
        IArrayCreationOperation { Initializer: { } initializer } => initializer.ElementValues,
        IObjectCreationOperation { Initializer: { } initializer } => initializer.Initializers
            .OfType<IInvocationOperation>()
            .Where(add => add.Arguments.Length == 1)
            .Select(add => add.Arguments[0].Value),
        _ => null,
    };

    private sealed record PatternEntry(string? Key, Location KeyLocation, object? Value, Location ValueLocation);
}
