using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Peft.Typed.Generators.Diagnostics;

namespace Peft.Typed.Generators.Analysis;

/// <summary>
/// Checks the constant settings of adapter configs (PT0014-PT0019) in object initialisers and <c>with</c> expressions.
/// The rules live in <see cref="SettingChecks"/>; this class only registers them.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SettingAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.RankNotPositive,
        DiagnosticDescriptors.AlphaNotPositive,
        DiagnosticDescriptors.DropoutOutOfRange,
        DiagnosticDescriptors.InvalidDecomposeFactor,
        DiagnosticDescriptors.EntryMatchesNoModule,
        DiagnosticDescriptors.PatternKeyShadowed);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var symbols = TargetSymbols.Resolve(start.Compilation);
            if (symbols?.AdapterConfig is null) return;
            var checks = new SettingChecks(symbols);
            start.RegisterOperationAction(checks.AnalyzeConfig, OperationKind.ObjectCreation, OperationKind.With);
        });
    }
}
