using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Peft.Typed.Benchmarks.Generators;

/// <summary>An AdditionalFile with fixed text.</summary>
public sealed class BenchmarkAdditionalText(string path, string text) : AdditionalText
{
    private readonly SourceText _text = SourceText.From(text);

    public override string Path { get; } = path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
}
