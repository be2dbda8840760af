using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Peft.Typed.Generators.Diagnostics;

/// <summary>
/// Where a diagnostic points, kept as plain values: a <see cref="Location"/> pins a syntax tree or compilation, which
/// would defeat the generator's caching. The location is created only when the diagnostic is reported.
/// </summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    /// <summary>The first character of a file: for findings about the file as a whole.</summary>
    public static LocationInfo StartOf(string filePath) => new(filePath, new TextSpan(0, 0), new LinePositionSpan(default, default));
}
