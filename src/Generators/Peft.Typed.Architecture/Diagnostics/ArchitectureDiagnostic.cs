namespace Peft.Typed.Architecture.Diagnostics;

/// <summary>
/// One problem found in an architecture file, located so the source generator can underline it and the runtime
/// can print <c>path(line,column): error: message</c>.
/// </summary>
public sealed class ArchitectureDiagnostic
{
    public ArchitectureDiagnostic(ArchitectureDiagnosticCode code, ArchitectureSeverity severity, string message, string filePath, SourceSpan span)
    {
        Code = code;
        Severity = severity;
        Message = message;
        FilePath = filePath;
        Span = span;
    }

    public ArchitectureDiagnosticCode Code { get; }
    public ArchitectureSeverity Severity { get; }

    /// <summary>The message without location, e.g. <c>Unsupported act_fn 'tanh'; supported: silu, swish, mish, gelu, relu.</c></summary>
    public string Message { get; }

    /// <summary>The file as given to the parser; "" for a config built in code.</summary>
    public string FilePath { get; }

    public SourceSpan Span { get; }

    /// <summary>1-based line, 0 when unknown.</summary>
    public int Line => Span.Line;

    /// <summary>1-based column, 0 when unknown.</summary>
    public int Column => Span.Column;

    public bool IsError => Severity == ArchitectureSeverity.Error;

    /// <summary>MSBuild style: <c>unet/config.json(12,5): error: message</c>.</summary>
    public override string ToString()
    {
        var severity = IsError ? "error" : "warning";
        if (FilePath.Length == 0) return $"{severity}: {Message}";
        return Span.IsKnown ? $"{FilePath}({Line},{Column}): {severity}: {Message}" : $"{FilePath}: {severity}: {Message}";
    }
}
