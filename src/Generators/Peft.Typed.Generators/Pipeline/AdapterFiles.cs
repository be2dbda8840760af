using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Peft.Typed.Generators.Pipeline;

/// <summary>An adapter config file opted in with <c>PeftAdapterFor</c> metadata: its path, the typed class it is for, the root namespace and its text.</summary>
internal sealed record AdapterFileRequest(string FilePath, string ModelClass, string RootNamespace, string? Text);

/// <summary>
/// Which AdditionalFiles are adapter configs shipped with the app: those with <c>PeftAdapterFor</c> metadata, made
/// visible by build/Peft.Typed.Generators.props. Read by the adapter-file analyzer and by the generator (typed accessors).
/// </summary>
internal static class AdapterFiles
{
    public const string ModelMetadata = "build_metadata.AdditionalFiles.PeftAdapterFor";

    public static AdapterFileRequest? ReadRequest(AdditionalText file, AnalyzerConfigOptionsProvider options, CancellationToken cancellationToken)
    {
        if (!options.GetOptions(file).TryGetValue(ModelMetadata, out var model) || string.IsNullOrWhiteSpace(model)) return null;
        options.GlobalOptions.TryGetValue(ArchitectureFiles.RootNamespaceProperty, out var rootNamespace);
        return new AdapterFileRequest(file.Path, model.Trim(), rootNamespace?.Trim() ?? "", file.GetText(cancellationToken)?.ToString());
    }
}
