namespace Peft.Typed.Architecture.Diagnostics;

/// <summary>
/// Where a piece of an architecture file lies: character offset and length (for Roslyn's TextSpan) and
/// 1-based line/column of its start and of the position just after its end (for messages and LinePositionSpan).
/// Columns count UTF-16 characters, as editors and Roslyn do.
/// </summary>
public readonly struct SourceSpan : System.IEquatable<SourceSpan>
{
    public SourceSpan(int offset, int length, int line, int column, int endLine, int endColumn)
    {
        Offset = offset;
        Length = length;
        Line = line;
        Column = column;
        EndLine = endLine;
        EndColumn = endColumn;
    }

    public int Offset { get; }
    public int Length { get; }

    /// <summary>1-based line of the first character; 0 when the span is unknown.</summary>
    public int Line { get; }

    /// <summary>1-based column of the first character; 0 when the span is unknown.</summary>
    public int Column { get; }

    public int EndLine { get; }
    public int EndColumn { get; }

    /// <summary>False for <c>default(SourceSpan)</c>: an error about a config built in code, not read from a file.</summary>
    public bool IsKnown => Line > 0;

    public bool Equals(SourceSpan other) =>
        Offset == other.Offset && Length == other.Length && Line == other.Line && Column == other.Column &&
        EndLine == other.EndLine && EndColumn == other.EndColumn;

    public override bool Equals(object? obj) => obj is SourceSpan other && Equals(other);

    public override int GetHashCode() => unchecked((Offset * 397) ^ Length);

    public override string ToString() => $"({Line},{Column})-({EndLine},{EndColumn})";
}
