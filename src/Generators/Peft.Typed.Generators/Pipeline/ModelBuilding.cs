using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Diagnostics;
using Peft.Typed.Architecture.Tree;
using Peft.Typed.Generators.Diagnostics;
using Peft.Typed.Generators.Models;

namespace Peft.Typed.Generators.Pipeline;

/// <summary>Turns one architecture file into a <see cref="TypedModelSpec"/> with the shared Architecture code, or into located diagnostics.</summary>
internal static class ModelBuilding
{
    public static ArchitectureFileResult Build(ArchitectureFileRequest request, CancellationToken cancellationToken)
    {
        var path = request.FilePath;
        var diagnostics = new List<DiagnosticInfo>();
        if (!ClassNames.TrySplit(request.ClassName, request.RootNamespace, out var ns, out var name, out var problem))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidClassName, LocationInfo.StartOf(path), request.ClassName, problem));
            return Failed(request.ClassName);
        }
        var fullName = ns.Length == 0 ? name : ns + "." + name;
        if (request.Text is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidArchitectureFile, LocationInfo.StartOf(path), "The architecture file could not be read."));
            return Failed(fullName);
        }

        var parsed = ArchitectureDescription.ParseWithDiagnostics(request.Text, path);
        diagnostics.AddRange(parsed.Diagnostics.Select(ToInfo));
        if (parsed.Description is null) return Failed(fullName);
        cancellationToken.ThrowIfCancellationRequested();

        ModuleTree tree;
        try
        {
            tree = parsed.Description.BuildTree();
        }
        catch (ArchitectureException e)
        {
            diagnostics.AddRange(e.Diagnostics.Select(ToInfo));
            return Failed(fullName);
        }

        var spec = new TypedModelSpec(
            path,
            ns,
            name,
            parsed.Description.Kind,
            request.Text.Replace("\r\n", "\n"),
            new EquatableArray<ModuleSpec>(tree.Modules.Select(m => new ModuleSpec(m.Path, m.ClassName, IsSpatialConvolution(m)))),
            tree.ParameterCount);
        return new ArchitectureFileResult(path, fullName, spec, new EquatableArray<DiagnosticInfo>(diagnostics));

        ArchitectureFileResult Failed(string claimedName) => new(path, claimedName, null, new EquatableArray<DiagnosticInfo>(diagnostics));
    }

    /// <summary>A Conv2d whose kernel is larger than 1x1: what use_effective_conv2d changes (PT0004).</summary>
    private static bool IsSpatialConvolution(ModuleNode node) =>
        node.ClassName == "Conv2d" && node.Options.GetIntList("kernel_size").Any(k => k > 1);

    /// <summary>An Architecture finding as a diagnostic located in the JSON file.</summary>
    public static DiagnosticInfo ToInfo(ArchitectureDiagnostic diagnostic)
    {
        var descriptor = diagnostic.Code switch
        {
            ArchitectureDiagnosticCode.UnknownModelClass or ArchitectureDiagnosticCode.UnknownBlockType => DiagnosticDescriptors.UnsupportedModelClass,
            ArchitectureDiagnosticCode.UnknownOption => DiagnosticDescriptors.UnknownConfigOption,
            _ => DiagnosticDescriptors.InvalidArchitectureFile,
        };
        return DiagnosticInfo.Create(descriptor, LocationOf(diagnostic), diagnostic.Message);
    }

    private static LocationInfo LocationOf(ArchitectureDiagnostic diagnostic)
    {
        var span = diagnostic.Span;
        if (!span.IsKnown) return LocationInfo.StartOf(diagnostic.FilePath);
        return new LocationInfo(
            diagnostic.FilePath,
            new TextSpan(span.Offset, span.Length),
            new LinePositionSpan(new LinePosition(span.Line - 1, span.Column - 1), new LinePosition(span.EndLine - 1, span.EndColumn - 1)));
    }
}
