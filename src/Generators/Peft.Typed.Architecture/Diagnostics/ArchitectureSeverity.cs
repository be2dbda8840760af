namespace Peft.Typed.Architecture.Diagnostics;

/// <summary>How serious an <see cref="ArchitectureDiagnostic"/> is. Named apart from Roslyn's DiagnosticSeverity on purpose.</summary>
public enum ArchitectureSeverity
{
    /// <summary>The file is read, but something in it has no effect (an unknown option diffusers ignores too).</summary>
    Warning,

    /// <summary>The file cannot be turned into a model.</summary>
    Error,
}
