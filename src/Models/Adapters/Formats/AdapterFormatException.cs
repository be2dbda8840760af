namespace Peft.Typed.Models.Adapters.Formats;

/// <summary>
/// An adapter file that cannot be read or written in the requested format: unknown keys, a module the model lacks,
/// tensors that do not fit together, or an adapter a format cannot hold. The message starts with the file.
/// </summary>
public sealed class AdapterFormatException : Exception
{
    private readonly string _text;

    public AdapterFormatException(string filePath, string message, IReadOnlyList<string>? keys = null, Exception? innerException = null)
        : base(message, innerException)
    {
        _text = message;
        FilePath = filePath;
        Keys = keys ?? [];
    }

    /// <summary>The file or folder the problem is in.</summary>
    public string FilePath { get; }

    /// <summary>The offending keys (all of them; the message names the first few).</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>"&lt;file&gt;: &lt;problem&gt;".</summary>
    public override string Message => $"{FilePath}: {_text}";

    /// <summary>The first <paramref name="count"/> items, quoted and comma-separated, with ", ..." when there are more.</summary>
    internal static string First(IReadOnlyCollection<string> items, int count = 3) =>
        string.Join(", ", items.Take(count).Select(k => $"'{k}'")) + (items.Count > count ? $", ... ({items.Count} in all)" : "");
}
