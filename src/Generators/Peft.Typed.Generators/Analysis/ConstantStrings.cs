using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Peft.Typed.Generators.Analysis;

/// <summary>The string arguments of a call like <c>Named("to_q", "to_v")</c> (a params array or an explicit array), each with its location.</summary>
internal static class ConstantStrings
{
    /// <summary>Each element's constant value (null when not constant) and syntax location; null when the arguments are not a list of elements.</summary>
    public static IReadOnlyList<(string? Value, Location Location)>? Of(IInvocationOperation invocation)
    {
        if (invocation.Arguments.Length != 1) return null;
        var value = TargetEvaluator.Unwrap(invocation.Arguments[0].Value);
        if (value is IArrayCreationOperation { Initializer: { } initializer })
            return initializer.ElementValues.Select(Element).ToList();
        if (value?.Type?.SpecialType == SpecialType.System_String) return new[] { Element(value) };
        return null;
    }

    private static (string? Value, Location Location) Element(IOperation element) =>
        (element.ConstantValue.HasValue ? element.ConstantValue.Value as string : null, element.Syntax.GetLocation());
}
