using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Peft.Typed.Architecture.Diagnostics;
using Peft.Typed.Generators.Diagnostics;
using Peft.Typed.Generators.Pipeline;

namespace Peft.Typed.Generators.Analysis;

/// <summary>
/// Checks the adapter_config.json files an app ships, declared as
/// <c>&lt;AdditionalFiles Include="adapters/style/adapter_config.json" PeftAdapterFor="Sd15Unet" /&gt;</c>, against the
/// typed class they name (PT0022 when none), with <see cref="AdapterFileChecks"/>; diagnostics point into the JSON.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class AdapterFileAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.UnknownTargetName,
        DiagnosticDescriptors.RegexMatchesNothing,
        DiagnosticDescriptors.UnwrappableLayerKind,
        DiagnosticDescriptors.OptionWithoutEffect,
        DiagnosticDescriptors.EmptyTargetSet,
        DiagnosticDescriptors.MalformedRegex,
        DiagnosticDescriptors.RenamedAttentionName,
        DiagnosticDescriptors.RankNotPositive,
        DiagnosticDescriptors.AlphaNotPositive,
        DiagnosticDescriptors.DropoutOutOfRange,
        DiagnosticDescriptors.InvalidDecomposeFactor,
        DiagnosticDescriptors.EntryMatchesNoModule,
        DiagnosticDescriptors.PatternKeyShadowed,
        DiagnosticDescriptors.InvalidAdapterFile,
        DiagnosticDescriptors.UnknownAdapterField,
        DiagnosticDescriptors.UnknownAdapterModel);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var symbols = TargetSymbols.Resolve(start.Compilation);
            if (symbols is null) return;
            var compilation = start.Compilation;
            start.RegisterAdditionalFileAction(file => Analyze(file, compilation, symbols));
        });
    }

    private static void Analyze(AdditionalFileAnalysisContext context, Compilation compilation, TargetSymbols symbols)
    {
        var request = AdapterFiles.ReadRequest(context.AdditionalFile, context.Options.AnalyzerConfigOptionsProvider, context.CancellationToken);
        if (request is null) return;
        var path = request.FilePath;
        var model = ClassNames.TrySplit(request.ModelClass, request.RootNamespace, out var ns, out var name, out _)
            ? symbols.ModelOf(compilation.GetTypeByMetadataName(ns.Length == 0 ? name : ns + "." + name))
            : null;
        if (model is null)
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UnknownAdapterModel, LocationInfo.StartOf(path).ToLocation(), request.ModelClass));
            return;
        }
        if (request.Text is null) return;
        foreach (var finding in AdapterFileChecks.Check(request.Text, path, model))
            context.ReportDiagnostic(Diagnostic.Create(finding.Descriptor, LocationOf(path, finding.Span), [.. finding.Arguments]));
    }

    private static Location LocationOf(string path, SourceSpan span) => Location.Create(
        path,
        new TextSpan(span.Offset, span.Length),
        new LinePositionSpan(new LinePosition(span.Line - 1, span.Column - 1), new LinePosition(span.EndLine - 1, span.EndColumn - 1)));
}
