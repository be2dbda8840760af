using System.Linq;
using Microsoft.CodeAnalysis.CSharp;

namespace Peft.Typed.Generators.Pipeline;

/// <summary>
/// Splits <c>PeftTypedClass</c> into namespace and class: a dotted value is a full name (<c>MyApp.Models.Sd15Unet</c>),
/// a plain one goes into the project's root namespace.
/// </summary>
internal static class ClassNames
{
    /// <summary>False with a reason when a part is not a C# identifier.</summary>
    public static bool TrySplit(string value, string rootNamespace, out string ns, out string name, out string problem)
    {
        int dot = value.LastIndexOf('.');
        ns = dot < 0 ? rootNamespace : value.Substring(0, dot);
        name = value.Substring(dot + 1);
        problem = "";
        if (!IsIdentifier(name))
        {
            problem = name.Length == 0 ? " (the class name is empty)" : $" ('{name}' is not an identifier)";
            return false;
        }
        var badPart = ns.Length == 0 ? null : ns.Split('.').FirstOrDefault(part => !IsIdentifier(part));
        if (badPart is not null)
        {
            problem = $" (namespace part '{badPart}' is not an identifier)";
            return false;
        }
        return true;
    }

    private static bool IsIdentifier(string text) =>
        SyntaxFacts.IsValidIdentifier(text) && SyntaxFacts.GetKeywordKind(text) == SyntaxKind.None;
}
