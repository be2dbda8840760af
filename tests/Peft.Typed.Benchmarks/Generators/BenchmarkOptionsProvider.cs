using System.Diagnostics.CodeAnalysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Peft.Typed.Benchmarks.Generators;

/// <summary>The analyzer config of a project with one architecture file (<c>PeftTypedClass</c>) and a root namespace.</summary>
public sealed class BenchmarkOptionsProvider(string path, string className, string rootNamespace) : AnalyzerConfigOptionsProvider
{
    private static readonly Options None = new([]);

    public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(new() { ["build_property.RootNamespace"] = rootNamespace });

    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => None;

    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
        textFile.Path == path ? new Options(new() { ["build_metadata.AdditionalFiles.PeftTypedClass"] = className }) : None;

    private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
    }
}
