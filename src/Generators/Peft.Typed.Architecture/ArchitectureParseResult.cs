using System.Collections.Generic;
using System.Linq;
using Peft.Typed.Architecture.Diagnostics;

namespace Peft.Typed.Architecture;

/// <summary>
/// What <see cref="ArchitectureDescription.ParseWithDiagnostics"/> found: the description when the file is usable,
/// and every located error and warning (the source generator reports them all).
/// </summary>
public sealed class ArchitectureParseResult
{
    public ArchitectureParseResult(ArchitectureDescription? description, IReadOnlyList<ArchitectureDiagnostic> diagnostics)
    {
        Description = description;
        Diagnostics = diagnostics;
    }

    /// <summary>The parsed description; null when there is any error.</summary>
    public ArchitectureDescription? Description { get; }

    public IReadOnlyList<ArchitectureDiagnostic> Diagnostics { get; }

    public bool Success => Description is not null;

    public IEnumerable<ArchitectureDiagnostic> Errors => Diagnostics.Where(d => d.IsError);
}
