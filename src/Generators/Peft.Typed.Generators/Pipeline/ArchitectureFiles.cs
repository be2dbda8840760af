using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Peft.Typed.Generators.Models;

namespace Peft.Typed.Generators.Pipeline;

/// <summary>
/// Which AdditionalFiles are architecture files: those with <c>PeftTypedClass</c> metadata, made visible to the
/// compiler by <c>&lt;CompilerVisibleItemMetadata Include="AdditionalFiles" MetadataName="PeftTypedClass" /&gt;</c>
/// (build/Peft.Typed.Generators.props).
/// </summary>
internal static class ArchitectureFiles
{
    public const string ClassMetadata = "build_metadata.AdditionalFiles.PeftTypedClass";
    public const string RootNamespaceProperty = "build_property.RootNamespace";

    /// <summary>The request for <paramref name="file"/>, or null when it is not opted in.</summary>
    public static ArchitectureFileRequest? ReadRequest(AdditionalText file, AnalyzerConfigOptionsProvider options, CancellationToken cancellationToken)
    {
        if (!options.GetOptions(file).TryGetValue(ClassMetadata, out var className) || string.IsNullOrWhiteSpace(className)) return null;
        options.GlobalOptions.TryGetValue(RootNamespaceProperty, out var rootNamespace);
        var text = file.GetText(cancellationToken)?.ToString();
        return new ArchitectureFileRequest(file.Path, className.Trim(), rootNamespace?.Trim() ?? "", text);
    }
}
