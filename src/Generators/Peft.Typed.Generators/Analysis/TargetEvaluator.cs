using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using Peft.Typed.Architecture.Targeting;

namespace Peft.Typed.Generators.Analysis;

/// <summary>
/// Computes target-set expressions at compile time with the runtime's own <see cref="TargetSet"/> code: typed
/// selectors and presets, constant <c>Named</c>/<c>Matching</c> calls, <c>| &amp; -</c>, <c>Union</c>/<c>Intersect</c>/
/// <c>Except</c>/<c>Within</c>, scopes with constant indices, and locals assigned once. Anything else is unknown (null),
/// so the analyzer only reports what it can prove.
/// </summary>
internal sealed class TargetEvaluator
{
    private readonly TargetSymbols _symbols;

    public TargetEvaluator(TargetSymbols symbols) => _symbols = symbols;

    public EvaluatedSet? Set(IOperation? operation)
    {
        operation = Unwrap(operation);
        switch (operation)
        {
            case IPropertyReferenceOperation { Instance: null } property:
            {
                var model = _symbols.ModelOfNested(property.Property.ContainingType, "Targets");
                var set = model?.Shape.SetOf(property.Property.Name);
                return set is null ? null : new EvaluatedSet(model!, set, null);
            }
            case IInvocationOperation invocation:
                return Invocation(invocation);
            case IBinaryOperation binary when _symbols.IsTargetSet(binary.OperatorMethod?.ContainingType):
            {
                var left = Set(binary.LeftOperand);
                var right = Set(binary.RightOperand);
                if (left is null || right is null || left.Model != right.Model) return null;
                return binary.OperatorMethod!.Name switch
                {
                    "op_BitwiseOr" => Combine(left, right, left.Set.Union(right.Set)),
                    "op_BitwiseAnd" => Combine(left, right, left.Set.Intersect(right.Set)),
                    "op_Subtraction" => Combine(left, right, left.Set.Except(right.Set)),
                    _ => null,
                };
            }
            case ILocalReferenceOperation local when _symbols.IsTargetSet(local.Type):
                return Set(LocalInitializer(local));
            default:
                return null;
        }
    }

    public EvaluatedScope? Scope(IOperation? operation)
    {
        operation = Unwrap(operation);
        switch (operation)
        {
            case IPropertyReferenceOperation { Instance: null } property:
            {
                var model = _symbols.ModelOfNested(property.Property.ContainingType, "Scopes");
                var scope = model?.Shape.ScopeOf(property.Property.Name);
                return scope is null ? null : new EvaluatedScope(model!, scope, null);
            }
            case IPropertyReferenceOperation { Property.IsIndexer: true } indexer when _symbols.IsModuleScope(indexer.Property.ContainingType):
            {
                var scope = Scope(indexer.Instance);
                if (scope?.Scope is null) return scope;
                if (indexer.Arguments.Length != 1 || indexer.Arguments[0].Value.ConstantValue.Value is not int index) return null;
                try
                {
                    return scope with { Scope = scope.Scope[index] };
                }
                catch (ArgumentOutOfRangeException e)
                {
                    return scope with { Scope = null, Problem = FirstLine(e.Message) };
                }
            }
            case IBinaryOperation binary when _symbols.IsModuleScope(binary.OperatorMethod?.ContainingType) && binary.OperatorMethod!.Name == "op_BitwiseOr":
                return UnionScopes(Scope(binary.LeftOperand), Scope(binary.RightOperand));
            case IInvocationOperation { TargetMethod.Name: "Union" } invocation when _symbols.IsModuleScope(invocation.TargetMethod.ContainingType):
                return UnionScopes(Scope(invocation.Instance), Scope(invocation.Arguments.FirstOrDefault()?.Value));
            case ILocalReferenceOperation local when _symbols.IsModuleScope(local.Type):
                return Scope(LocalInitializer(local));
            default:
                return null;
        }
    }

    /// <summary>Skips implicit conversions (TargetSet to TargetModules, nullable) that do not change the value.</summary>
    public static IOperation? Unwrap(IOperation? operation)
    {
        while (operation is IConversionOperation conversion) operation = conversion.Operand;
        return operation;
    }

    /// <summary>The initializer of a local that is never assigned again in its method, else null.</summary>
    public static IOperation? LocalInitializer(ILocalReferenceOperation reference)
    {
        var root = reference;
        IOperation top = reference;
        while (top.Parent is not null) top = top.Parent;
        IOperation? initializer = null;
        foreach (var operation in top.Descendants())
        {
            switch (operation)
            {
                case IVariableDeclaratorOperation declarator when SymbolEqualityComparer.Default.Equals(declarator.Symbol, root.Local):
                    initializer = declarator.Initializer?.Value;
                    break;
                case IAssignmentOperation assignment when assignment.Target is ILocalReferenceOperation target && SymbolEqualityComparer.Default.Equals(target.Local, root.Local):
                    return null;
            }
        }
        return initializer;
    }

    private EvaluatedSet? Invocation(IInvocationOperation invocation)
    {
        var method = invocation.TargetMethod;
        if (method.IsStatic)
        {
            var model = _symbols.ModelOfNested(method.ContainingType, "Targets");
            if (model is null) return null;
            if (method.Name == "Named")
            {
                var names = ConstantStrings.Of(invocation);
                if (names is null || names.Any(n => n.Value is null or "")) return null;
                var set = model.Catalog.Select(TargetModules.FromNames(names.Select(n => n.Value!)));
                return set.IsEmpty ? null : new EvaluatedSet(model, set, null);
            }
            if (method.Name == "Matching" && invocation.Arguments.Length == 1 && invocation.Arguments[0].Value.ConstantValue.Value is string pattern)
            {
                try
                {
                    var set = model.Catalog.Select(TargetModules.FromPattern(pattern));
                    return set.IsEmpty ? null : new EvaluatedSet(model, set, null);
                }
                catch (ArgumentException)
                {
                    return null;
                }
            }
            return null;
        }
        if (!_symbols.IsTargetSet(method.ContainingType) || !_symbols.IsTargetSet(method.ReturnType) || invocation.Arguments.Length != 1) return null;
        var self = Set(invocation.Instance);
        if (self is null) return null;
        var argument = invocation.Arguments[0].Value;
        if (_symbols.IsModuleScope(Unwrap(argument)?.Type))
        {
            var scope = Scope(argument);
            if (scope is null || scope.Model != self.Model) return null;
            if (scope.Scope is null) return self with { Set = self.Set.Except(self.Set), Problem = scope.Problem };
            return method.Name switch
            {
                "Within" => self with { Set = self.Set.Within(scope.Scope) },
                "Except" => self with { Set = self.Set.Except(scope.Scope) },
                _ => null,
            };
        }
        var other = Set(argument);
        if (other is null || other.Model != self.Model) return null;
        return method.Name switch
        {
            "Union" => Combine(self, other, self.Set.Union(other.Set)),
            "Intersect" => Combine(self, other, self.Set.Intersect(other.Set)),
            "Except" => Combine(self, other, self.Set.Except(other.Set)),
            _ => null,
        };
    }

    private static EvaluatedSet Combine(EvaluatedSet left, EvaluatedSet right, TargetSet result) =>
        new(left.Model, result, left.Problem ?? right.Problem);

    private static EvaluatedScope? UnionScopes(EvaluatedScope? left, EvaluatedScope? right)
    {
        if (left is null || right is null || left.Model != right.Model) return null;
        if (left.Scope is null) return left;
        if (right.Scope is null) return right;
        return left with { Scope = left.Scope.Union(right.Scope) };
    }

    private static string FirstLine(string message)
    {
        int end = message.IndexOf('\n');
        var line = (end < 0 ? message : message.Substring(0, end)).TrimEnd('\r');
        // ArgumentOutOfRangeException appends "(Parameter 'index')"; the sentence before it is the message.
        int parameter = line.IndexOf(" (Parameter", StringComparison.Ordinal);
        return parameter < 0 ? line : line.Substring(0, parameter);
    }
}
