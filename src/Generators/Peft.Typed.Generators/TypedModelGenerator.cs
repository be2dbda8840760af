using System.Linq;
using Microsoft.CodeAnalysis;
using Peft.Typed.Generators.Diagnostics;
using Peft.Typed.Generators.Emit;
using Peft.Typed.Generators.Models;
using Peft.Typed.Generators.Pipeline;

namespace Peft.Typed.Generators;

/// <summary>
/// Generates a typed class for every AdditionalFile with <c>PeftTypedClass</c> metadata that is a diffusers or
/// transformers config.json: the class over the runtime model with the config baked in, typed hierarchy views,
/// <c>Targets</c> and <c>Scopes</c>; and an accessor <c>Adapters.X</c> for every adapter_config.json with
/// <c>PeftAdapterFor</c> metadata naming one of those classes. Problems in the JSON are reported at their line and column in the file.
/// Only wiring here; the work is in <see cref="ModelBuilding"/>, <see cref="DuplicateClasses"/> and <see cref="TypedModelEmitter"/>.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class TypedModelGenerator : IIncrementalGenerator
{
    /// <summary>A type only Peft.Typed.Models has; without it the generated code cannot compile.</summary>
    private const string ModelsMarkerType = "Peft.Typed.Models.Typed.TypedModel`1";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var requests = context.AdditionalTextsProvider
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Select(static (pair, cancellationToken) => ArchitectureFiles.ReadRequest(pair.Left, pair.Right, cancellationToken))
            .Where(static request => request is not null)
            .Select(static (request, _) => request!)
            .WithTrackingName(TrackingNames.Requests);

        var results = requests
            .Select(static (request, cancellationToken) => ModelBuilding.Build(request, cancellationToken))
            .WithTrackingName(TrackingNames.Results);

        var claims = results
            .Select(static (result, _) => new ClassClaim(result.FullName, result.FilePath))
            .Collect()
            .Select(static (all, _) => new EquatableArray<ClassClaim>(all))
            .WithTrackingName(TrackingNames.Claims);

        var modelsReferenced = context.CompilationProvider
            .Select(static (compilation, _) => compilation.GetTypeByMetadataName(ModelsMarkerType) is not null)
            .WithTrackingName(TrackingNames.ModelsReferenced);

        var checkedFiles = results
            .Combine(claims)
            .Select(static (pair, _) => DuplicateClasses.Check(pair.Left, pair.Right));

        var checkedResults = checkedFiles
            .Combine(modelsReferenced)
            .WithTrackingName(TrackingNames.Checked);

        context.RegisterSourceOutput(checkedResults, static (output, pair) => Produce(output, pair.Left, pair.Right));

        var generated = checkedFiles
            .Select(static (result, _) => result.Spec?.FullName ?? "")
            .Collect()
            .Select(static (all, _) => new EquatableArray<string>(all.Where(name => name.Length > 0)));

        var accessors = context.AdditionalTextsProvider
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Select(static (pair, cancellationToken) => AdapterFiles.ReadRequest(pair.Left, pair.Right, cancellationToken))
            .Where(static request => request is not null)
            .Combine(generated)
            .Select(static (pair, _) => AdapterAccessors.Create(pair.Left!, pair.Right))
            .Where(static spec => spec is not null)
            .Combine(modelsReferenced)
            .WithTrackingName(TrackingNames.AdapterAccessors);

        context.RegisterSourceOutput(accessors, static (output, pair) =>
        {
            if (pair.Right) output.AddSource(AdapterAccessorEmitter.HintName(pair.Left!), AdapterAccessorEmitter.Emit(pair.Left!));
        });
    }

    private static void Produce(SourceProductionContext output, ArchitectureFileResult result, bool modelsReferenced)
    {
        foreach (var diagnostic in result.Diagnostics) output.ReportDiagnostic(diagnostic.ToDiagnostic());
        if (result.Spec is not { } spec) return;
        if (!modelsReferenced)
        {
            output.ReportDiagnostic(DiagnosticInfo.Create(DiagnosticDescriptors.ModelsNotReferenced, LocationInfo.StartOf(spec.FilePath), spec.FullName).ToDiagnostic());
            return;
        }
        output.AddSource(TypedModelEmitter.HintName(spec), TypedModelEmitter.Emit(spec));
    }
}
