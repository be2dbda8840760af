using Peft.Typed.Generators.Diagnostics;

namespace Peft.Typed.Generators.Models;

/// <summary>What one architecture file gives: the class to generate (null on error) and the file's diagnostics.</summary>
internal sealed record ArchitectureFileResult(string FilePath, string FullName, TypedModelSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);
