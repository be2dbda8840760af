namespace Peft.Typed.Generators.Models;

/// <summary>One module of the tree: qualified path, Python class, and whether it is a Conv2d with a kernel larger than 1x1.</summary>
internal sealed record ModuleSpec(string Path, string ClassName, bool SpatialConvolution = false);
