using System.Diagnostics.CodeAnalysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Peft.Typed.Generators.Tests.Support;

/// <summary>
/// The analyzer config MSBuild writes for a project with <c>&lt;AdditionalFiles Include="..." PeftTypedClass="..." /&gt;</c>
/// (and <c>PeftAdapterFor="..."</c> for the paths of <paramref name="adapterForByPath"/>) and the props'
/// <c>CompilerVisibleItemMetadata</c>/<c>CompilerVisibleProperty</c>.
/// </summary>
public sealed class TestOptionsProvider(IReadOnlyDictionary<string, string> classByPath, string rootNamespace,
    IReadOnlyDictionary<string, string>? adapterForByPath = null) : AnalyzerConfigOptionsProvider
{
    public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(new Dictionary<string, string> { ["build_property.RootNamespace"] = rootNamespace });

    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
        classByPath.TryGetValue(textFile.Path, out var className)
            ? new Options(new Dictionary<string, string> { ["build_metadata.AdditionalFiles.PeftTypedClass"] = className })
            : adapterForByPath is not null && adapterForByPath.TryGetValue(textFile.Path, out var model)
            ? new Options(new Dictionary<string, string> { ["build_metadata.AdditionalFiles.PeftAdapterFor"] = model })
            : Options.Empty;

    private sealed class Options(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptions
    {
        public static readonly Options Empty = new(new Dictionary<string, string>());

        public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
    }
}
