using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Peft.Typed.Generators.Diagnostics;

namespace Peft.Typed.Generators.Analysis;

/// <summary>
/// Checks adapter targets against the module trees of the typed classes (PT0001-PT0005, PT0011, PT0013): string lists and
/// regexes given to <c>Targets.Named</c>/<c>Targets.Matching</c> or to <c>TargetModules.From*</c> in a config passed to
/// a typed model's <c>WithAdapter</c>, composed target sets, and adapter options the targets make pointless. The rules
/// live in <see cref="TargetChecks"/>; this class only registers them.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class TargetAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.UnknownTargetName,
        DiagnosticDescriptors.RegexMatchesNothing,
        DiagnosticDescriptors.UnwrappableLayerKind,
        DiagnosticDescriptors.OptionWithoutEffect,
        DiagnosticDescriptors.EmptyTargetSet,
        DiagnosticDescriptors.MalformedRegex,
        DiagnosticDescriptors.RenamedAttentionName);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var symbols = TargetSymbols.Resolve(start.Compilation);
            if (symbols is null) return;
            var checks = new TargetChecks(symbols);
            start.RegisterOperationAction(checks.AnalyzeInvocation, OperationKind.Invocation);
            start.RegisterOperationAction(checks.AnalyzeSetExpression, OperationKind.Invocation, OperationKind.BinaryOperator, OperationKind.PropertyReference);
            start.RegisterOperationAction(checks.AnalyzeConfigCreation, OperationKind.ObjectCreation);
        });
    }
}
