namespace Peft.Typed.Generators.Models;

/// <summary>A file claiming a class name, for the duplicate check across files.</summary>
internal sealed record ClassClaim(string FullName, string FilePath);
