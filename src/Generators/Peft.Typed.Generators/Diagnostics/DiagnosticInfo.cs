using System.Linq;
using Microsoft.CodeAnalysis;
using Peft.Typed.Generators.Models;

namespace Peft.Typed.Generators.Diagnostics;

/// <summary>A diagnostic as pipeline data: the descriptor's id, the message arguments and the location.</summary>
internal sealed record DiagnosticInfo(string Id, EquatableArray<string> Arguments, LocationInfo Location)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo location, params string[] arguments) =>
        new(descriptor.Id, new EquatableArray<string>(arguments), location);

    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(DiagnosticDescriptors.ById(Id), Location.ToLocation(), Arguments.Select(a => (object?)a).ToArray());
}
