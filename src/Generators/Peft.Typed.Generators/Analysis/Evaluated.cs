using Peft.Typed.Architecture.Targeting;

namespace Peft.Typed.Generators.Analysis;

/// <summary>A target set known at compile time, with the reason when a scope index left it empty.</summary>
internal sealed record EvaluatedSet(AnalyzedModel Model, TargetSet Set, string? Problem);

/// <summary>A scope known at compile time; <see cref="Problem"/> is set (and <see cref="Scope"/> null) for an index no list has.</summary>
internal sealed record EvaluatedScope(AnalyzedModel Model, ModuleScope? Scope, string? Problem);
