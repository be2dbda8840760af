using System.Collections.Generic;
using System.Linq;
using Peft.Typed.Generators.Diagnostics;
using Peft.Typed.Generators.Models;

namespace Peft.Typed.Generators.Pipeline;

/// <summary>Two files may not claim one class: both get PT0008 and neither is generated.</summary>
internal static class DuplicateClasses
{
    public static ArchitectureFileResult Check(ArchitectureFileResult result, EquatableArray<ClassClaim> claims)
    {
        var other = claims.FirstOrDefault(c => c.FullName == result.FullName && c.FilePath != result.FilePath);
        if (other is null) return result;
        var paths = new[] { result.FilePath, other.FilePath }.OrderBy(p => p, System.StringComparer.Ordinal).ToArray();
        var diagnostics = new List<DiagnosticInfo>(result.Diagnostics)
        {
            DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateClassName, LocationInfo.StartOf(result.FilePath), result.FullName, paths[0], paths[1]),
        };
        return result with { Spec = null, Diagnostics = new EquatableArray<DiagnosticInfo>(diagnostics) };
    }
}
