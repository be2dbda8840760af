namespace Peft.Typed.Generators.Models;

/// <summary>One module of the tree: qualified path and Python class.</summary>
internal sealed record ModuleSpec(string Path, string ClassName);
