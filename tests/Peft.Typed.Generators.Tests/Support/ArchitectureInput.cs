namespace Peft.Typed.Generators.Tests.Support;

/// <summary>An architecture file as a test gives it to the generator: path, PeftTypedClass metadata and text.</summary>
public sealed record ArchitectureInput(string Path, string ClassName, string Text);
