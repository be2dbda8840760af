namespace Peft.Typed.Architecture.Tree;

/// <summary>Qualified module paths as PyTorch writes them: segments joined by '.', "" for the root.</summary>
internal static class ModulePath
{
    public static string Join(string parent, string name) => parent.Length == 0 ? name : parent + "." + name;

    public static string Join(string parent, string name, int index) => Join(parent, name) + "." + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
