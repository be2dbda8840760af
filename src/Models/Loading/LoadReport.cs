using System.Text;

namespace Peft.Typed.Models.Loading;

/// <summary>What loading a checkpoint into a model did: the tensors it copied and every name that did not match.</summary>
public sealed record LoadReport(
    string FilePath,
    IReadOnlyList<string> Loaded,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<ShapeMismatch> Mismatched)
{
    private const int ListedPerKind = 50;

    /// <summary>True when every model tensor was loaded and every checkpoint tensor was used.</summary>
    public bool IsExact => Missing.Count == 0 && Unexpected.Count == 0 && Mismatched.Count == 0;

    /// <summary>One line per kind of problem, naming the tensors (the first 50 of each kind).</summary>
    public string Describe()
    {
        var text = new StringBuilder($"Checkpoint '{FilePath}' does not match the model.");
        Append(text, "missing from the checkpoint", Missing);
        Append(text, "unexpected (not in the model)", Unexpected);
        Append(text, "with a different shape", Mismatched.Select(m => m.ToString()).ToList());
        return text.ToString();
    }

    private static void Append(StringBuilder text, string kind, IReadOnlyList<string> names)
    {
        if (names.Count == 0) return;
        text.Append($"\n{names.Count} {kind}: {string.Join(", ", names.Take(ListedPerKind))}");
        if (names.Count > ListedPerKind) text.Append($", ... and {names.Count - ListedPerKind} more");
        text.Append('.');
    }
}
