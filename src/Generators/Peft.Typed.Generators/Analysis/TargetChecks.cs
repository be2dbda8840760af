using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Generators.Diagnostics;

namespace Peft.Typed.Generators.Analysis;

/// <summary>
/// The target rules of <see cref="TargetAnalyzer"/>. Where target strings are checked:
/// <list type="bullet">
/// <item><c>X.Targets.Named("to_q", ...)</c> and <c>X.Targets.Matching("regex")</c> of a typed class X, anywhere, and the same
/// calls on a view's targets (<c>unet.MidBlock.Targets.Named(...)</c>, checked against the whole model);</item>
/// <item><c>TargetModules.FromNames(...)</c>, <c>FromPattern(...)</c> and <c>FromRegex(...)</c> assigned to <c>TargetModules</c> in
/// an adapter config that is passed to a typed model's <c>WithAdapter</c>, directly or through a local assigned once.</item>
/// </list>
/// Each string is checked at its literal; elements that are not constants are skipped, never guessed.
/// </summary>
internal sealed class TargetChecks
{
    private readonly TargetSymbols _symbols;
    private readonly TargetEvaluator _evaluator;

    public TargetChecks(TargetSymbols symbols)
    {
        _symbols = symbols;
        _evaluator = new TargetEvaluator(symbols);
    }

    /// <summary>String lists and regexes given to <c>Targets.Named</c>/<c>Matching</c> or <c>TargetModules.From*</c>.</summary>
    public void AnalyzeInvocation(OperationAnalysisContext context)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        // Targets.Named(...) of the typed class, or Named(...) of a view's targets (unet.MidBlock.Targets.Named(...)).
        var model = _symbols.ModelOfNested(method.ContainingType, method.IsStatic ? "Targets" : "ScopedTargets");
        if (model is not null)
        {
            var adapter = TargetSymbols.AdapterName(EnclosingConfig(invocation)?.Type);
            if (method.Name == "Named") CheckNames(context, model, invocation, adapter);
            else if (method.Name == "Matching") CheckPattern(context, model, invocation, adapter, allowAllLinear: true);
            return;
        }
        if (!method.IsStatic || !_symbols.IsTargetModules(method.ContainingType)) return;
        var config = ConfigAssignedFrom(invocation);
        var configModel = config is null ? null : ModelOfConfig(config);
        if (configModel is null) return;
        var name = TargetSymbols.AdapterName(config!.Type);
        switch (method.Name)
        {
            case "FromNames":
                CheckNames(context, configModel, invocation, name);
                break;
            case "FromPattern":
                CheckPattern(context, configModel, invocation, name, allowAllLinear: true);
                break;
            case "FromRegex":
                CheckPattern(context, configModel, invocation, name, allowAllLinear: false);
                break;
        }
    }

    /// <summary>A composed target set that is provably empty (PT0005), reported on the whole expression.</summary>
    public void AnalyzeSetExpression(OperationAnalysisContext context)
    {
        var operation = context.Operation;
        if (!_symbols.IsTargetSet(operation.Type) || IsComposed(operation)) return;
        if (operation is IInvocationOperation { TargetMethod: { IsStatic: true, Name: "Named" or "Matching" } } call
            && _symbols.ModelOfNested(call.TargetMethod.ContainingType, "Targets") is not null) return;
        var result = _evaluator.Set(operation);
        if (result is null || !result.Set.IsEmpty) return;
        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.EmptyTargetSet, operation.Syntax.GetLocation(),
            TargetMessages.EmptySet(result.Model.Catalog.ModelName, result.Problem is null ? "" : ": " + result.Problem)));
    }

    /// <summary><c>UseEffectiveConv2d = true</c> in a LoHa/LoKr config whose targets hold no k x k convolution (PT0004).</summary>
    public void AnalyzeConfigCreation(OperationAnalysisContext context)
    {
        var creation = (IObjectCreationOperation)context.Operation;
        if (!_symbols.IsAdapterConfig(creation.Type) || creation.Initializer is null) return;
        var effective = Assignment(creation, "UseEffectiveConv2d");
        if (effective?.Value.ConstantValue.Value is not true) return;
        var targets = Assignment(creation, "TargetModules")?.Value;
        var evaluated = _evaluator.Set(targets) ?? SetOfTargetModulesCall(creation, targets);
        if (evaluated is null || evaluated.Set.IsEmpty || evaluated.Model.HasSpatialConvolution(evaluated.Set)) return;
        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.OptionWithoutEffect, effective.Syntax.GetLocation(),
            "use_effective_conv2d", evaluated.Model.Catalog.ModelName, Describe(evaluated.Set)));
    }

    /// <summary>
    /// Each constant entry on its own: one that matches nothing is PT0001 (an error), unless it is an old diffusers
    /// attention name and another entry matches, which is PT0013 (a warning, as PEFT would adapt the others); a list
    /// where no entry matches is PT0005 on the call as well.
    /// </summary>
    private void CheckNames(OperationAnalysisContext context, AnalyzedModel model, IInvocationOperation invocation, string adapter)
    {
        var items = ConstantStrings.Of(invocation);
        if (items is null) return;
        bool allConstant = true, anyMatch = false;
        var dead = new List<(UnmatchedTarget Entry, Location Location)>();
        foreach (var (value, location) in items)
        {
            if (string.IsNullOrEmpty(value))
            {
                allConstant = false;
                continue;
            }
            var set = model.Catalog.Select(TargetModules.FromNames(value!));
            if (set.IsEmpty)
            {
                dead.Add((set.Unmatched.FirstOrDefault() ?? new UnmatchedTarget(value!, null), location));
                continue;
            }
            anyMatch = true;
            ReportUnwrappable(context, set, value!, location, adapter);
        }
        foreach (var (entry, location) in dead)
        {
            var descriptor = entry.IsRenamed && anyMatch ? DiagnosticDescriptors.RenamedAttentionName : DiagnosticDescriptors.UnknownTargetName;
            var properties = entry.Suggestion is { } replacement && location.SourceTree?.GetRoot(context.CancellationToken).FindNode(location.SourceSpan, getInnermostNodeForTie: true) is LiteralExpressionSyntax
                ? ImmutableDictionary<string, string?>.Empty.Add(FixProperties.Replacement, replacement)
                : null;
            context.ReportDiagnostic(Diagnostic.Create(descriptor, location, properties, TargetMessages.Unmatched(entry, model.Catalog.ModelName)));
        }
        if (allConstant && !anyMatch)
        {
            var detail = items.Count == 0 ? ": the list is empty" : ": no entry of the list matches";
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.EmptyTargetSet, invocation.Syntax.GetLocation(), TargetMessages.EmptySet(model.Catalog.ModelName, detail)));
        }
    }

    private void CheckPattern(OperationAnalysisContext context, AnalyzedModel model, IInvocationOperation invocation, string adapter, bool allowAllLinear)
    {
        if (invocation.Arguments.Length != 1) return;
        var argument = invocation.Arguments[0].Value;
        if (argument.ConstantValue.Value is not string pattern) return;
        var location = argument.Syntax.GetLocation();
        var problem = RegexProblem(pattern);
        if (problem is not null)
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.MalformedRegex, location, pattern, problem));
            return;
        }
        var set = model.Catalog.Select(allowAllLinear ? TargetModules.FromPattern(pattern) : TargetModules.FromRegex(pattern));
        if (set.IsEmpty)
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.RegexMatchesNothing, location, TargetMessages.RegexMatchesNothing(pattern, model.Catalog.ModelName)));
            return;
        }
        ReportUnwrappable(context, set, pattern, location, adapter);
    }

    private static void ReportUnwrappable(OperationAnalysisContext context, TargetSet set, string entry, Location location, string adapter)
    {
        if (TargetMessages.UnwrappableModules(set) is not { } modules) return;
        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UnwrappableLayerKind, location, TargetMessages.Unwrappable(entry, modules, set.Catalog.ModelName, adapter)));
    }

    /// <summary>The regex parser's message for a malformed pattern, about the pattern as written; null when it parses.</summary>
    private static string? RegexProblem(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    /// <summary>True when <paramref name="operation"/> is an operand of a larger target-set expression (only the whole expression is judged).</summary>
    private bool IsComposed(IOperation operation)
    {
        var parent = operation.Parent;
        while (parent is IConversionOperation conversion && _symbols.IsTargetSet(conversion.Type)) parent = parent.Parent;
        return parent switch
        {
            IBinaryOperation binary => _symbols.IsTargetSet(binary.OperatorMethod?.ContainingType),
            IArgumentOperation { Parent: IInvocationOperation call } => !call.TargetMethod.IsStatic && _symbols.IsTargetSet(call.TargetMethod.ContainingType),
            IInvocationOperation call => !call.TargetMethod.IsStatic && _symbols.IsTargetSet(call.TargetMethod.ContainingType) && _symbols.IsTargetSet(call.TargetMethod.ReturnType),
            _ => false,
        };
    }

    /// <summary>The adapter config whose initializer holds <paramref name="operation"/>, if any.</summary>
    private IObjectCreationOperation? EnclosingConfig(IOperation operation)
    {
        for (var current = operation.Parent; current is not null; current = current.Parent)
        {
            if (current is IObjectCreationOperation creation) return _symbols.IsAdapterConfig(creation.Type) ? creation : null;
        }
        return null;
    }

    /// <summary>The adapter config when <paramref name="call"/> is the value of its <c>TargetModules = ...</c> initializer.</summary>
    private IObjectCreationOperation? ConfigAssignedFrom(IInvocationOperation call)
    {
        var parent = call.Parent;
        while (parent is IConversionOperation) parent = parent.Parent;
        if (parent is not ISimpleAssignmentOperation { Target: IPropertyReferenceOperation { Property.Name: "TargetModules" } } assignment) return null;
        return assignment.Parent?.Parent is IObjectCreationOperation creation && _symbols.IsAdapterConfig(creation.Type) ? creation : null;
    }

    /// <summary>
    /// The typed model a config (a creation or a <c>with</c> expression) is applied to: <c>model.WithAdapter(new LoraConfig { ... })</c>,
    /// or a local holding the config passed to <c>model.WithAdapter(config)</c> in the same method.
    /// </summary>
    public AnalyzedModel? ModelOfConfig(IOperation config)
    {
        IOperation current = config;
        while (current.Parent is IConversionOperation) current = current.Parent;
        if (current.Parent is IArgumentOperation { Parent: IInvocationOperation direct }) return ModelOfWithAdapter(direct);
        if (current.Parent is not IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator }) return null;
        IOperation top = declarator;
        while (top.Parent is not null) top = top.Parent;
        foreach (var call in top.Descendants().OfType<IInvocationOperation>())
        {
            if (call.TargetMethod.Name != "WithAdapter" || call.Arguments.Length == 0) continue;
            if (TargetEvaluator.Unwrap(call.Arguments[0].Value) is ILocalReferenceOperation local
                && SymbolEqualityComparer.Default.Equals(local.Local, declarator.Symbol))
            {
                var model = ModelOfWithAdapter(call);
                if (model is not null) return model;
            }
        }
        return null;
    }

    private AnalyzedModel? ModelOfWithAdapter(IInvocationOperation call) =>
        call.TargetMethod.Name == "WithAdapter" && SymbolEqualityComparer.Default.Equals(call.TargetMethod.ContainingType, _symbols.TypedModel)
            ? _symbols.ModelOf(call.Instance?.Type)
            : null;

    private static ISimpleAssignmentOperation? Assignment(IObjectCreationOperation creation, string property) =>
        creation.Initializer!.Initializers.OfType<ISimpleAssignmentOperation>()
            .FirstOrDefault(a => a.Target is IPropertyReferenceOperation reference && reference.Property.Name == property);

    /// <summary>The set a constant <c>TargetModules.From*</c> call selects in the model the config is applied to.</summary>
    private EvaluatedSet? SetOfTargetModulesCall(IObjectCreationOperation creation, IOperation? targets)
    {
        if (TargetEvaluator.Unwrap(targets) is not IInvocationOperation call || !_symbols.IsTargetModules(call.TargetMethod.ContainingType)) return null;
        var model = ModelOfConfig(creation);
        if (model is null) return null;
        try
        {
            if (call.TargetMethod.Name == "FromNames")
            {
                var names = ConstantStrings.Of(call);
                if (names is null || names.Any(n => string.IsNullOrEmpty(n.Value))) return null;
                return new EvaluatedSet(model, model.Catalog.Select(TargetModules.FromNames(names.Select(n => n.Value!))), null);
            }
            if (call.Arguments.Length == 1 && call.Arguments[0].Value.ConstantValue.Value is string pattern)
            {
                var targetModules = call.TargetMethod.Name == "FromRegex" ? TargetModules.FromRegex(pattern) : TargetModules.FromPattern(pattern);
                return new EvaluatedSet(model, model.Catalog.Select(targetModules), null);
            }
        }
        catch (ArgumentException)
        {
            return null;
        }
        return null;
    }

    private static string Describe(TargetSet set) =>
        string.Join(", ", set.GroupBy(m => m.Kind).Select(g => $"{g.Count()} {g.Key} module{(g.Count() == 1 ? "" : "s")}"));
}
