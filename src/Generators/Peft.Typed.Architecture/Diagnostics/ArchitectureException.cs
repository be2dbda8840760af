using System;
using System.Collections.Generic;
using System.Linq;

namespace Peft.Typed.Architecture.Diagnostics;

/// <summary>
/// Thrown when an architecture file or config cannot be turned into a model. <see cref="Exception.Message"/> lists
/// every error as <c>path(line,column): error: message</c>; <see cref="Diagnostics"/> holds them one by one.
/// </summary>
public sealed class ArchitectureException : Exception
{
    public ArchitectureException(IReadOnlyList<ArchitectureDiagnostic> diagnostics)
        : base(string.Join("\n", diagnostics.Where(d => d.IsError).Select(d => d.ToString())))
    {
        Diagnostics = diagnostics;
    }

    public ArchitectureException(ArchitectureDiagnostic diagnostic)
        : this(new[] { diagnostic })
    {
    }

    public IReadOnlyList<ArchitectureDiagnostic> Diagnostics { get; }

    /// <summary>The first error, for callers (and tests) that expect exactly one.</summary>
    public ArchitectureDiagnostic First => Diagnostics.First(d => d.IsError);
}
