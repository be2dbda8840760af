namespace Peft.Typed.Generators.Diagnostics;

/// <summary>
/// Diagnostic properties the code fixes read (Peft.Typed.Generators.CodeFixes compiles this file in): a PT0001/PT0013 on a
/// target literal carries the name to write instead, set only where the replacement is unambiguous.
/// </summary>
internal static class FixProperties
{
    /// <summary>The target name to write instead of the literal (the closest name, or the current name of an old attention name).</summary>
    public const string Replacement = "Replacement";
}
