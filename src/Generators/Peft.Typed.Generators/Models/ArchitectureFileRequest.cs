namespace Peft.Typed.Generators.Models;

/// <summary>
/// An AdditionalFile opted in with <c>PeftTypedClass</c> metadata: its path, the class name as written, the
/// project's root namespace and the file's text (null when it could not be read).
/// </summary>
internal sealed record ArchitectureFileRequest(string FilePath, string ClassName, string RootNamespace, string? Text);
