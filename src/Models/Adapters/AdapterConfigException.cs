using System.Globalization;

namespace Peft.Typed.Models.Adapters;

/// <summary>
/// An adapter config field holds a value PEFT would reject or that this library does not implement.
/// The message names the PEFT field (<c>r</c>, <c>bias</c>, <c>decompose_factor</c>), the value and, when the config
/// came from a file, the file.
/// </summary>
public sealed class AdapterConfigException : ArgumentException
{
    private readonly string _text;

    public AdapterConfigException(string field, string message, string? filePath = null, Exception? innerException = null)
        : base(message, field, innerException)
    {
        _text = message;
        Field = field;
        FilePath = filePath;
    }

    /// <summary>The PEFT field name as spelled in adapter_config.json.</summary>
    public string Field { get; }

    /// <summary>The adapter_config.json the value came from, or null for a config built in code.</summary>
    public string? FilePath { get; }

    /// <summary>The text, prefixed with the file when there is one (no .NET "(Parameter ...)" suffix: the field is named).</summary>
    public override string Message => FilePath is null ? _text : $"{FilePath}: {_text}";

    /// <summary>"Invalid value for 'r': 0. r must be a positive integer."</summary>
    internal static AdapterConfigException Invalid(string field, object? value, string requirement) =>
        new(field, $"Invalid value for '{field}': {Show(value)}. {requirement}");

    /// <summary>"'use_dora' = true is not supported: DoRA is not implemented."</summary>
    internal static AdapterConfigException Unsupported(string field, object? value, string why) =>
        new(field, $"'{field}' = {Show(value)} is not supported: {why}");

    /// <summary>The same error, attributed to <paramref name="path"/>.</summary>
    internal AdapterConfigException InFile(string path) => new(Field, _text, path, this);

    /// <summary>A value already in JSON form (shown as is, not quoted again).</summary>
    internal readonly record struct RawJson(string Text);

    internal static string Show(object? value) => value switch
    {
        null => "null",
        RawJson json => json.Text,
        bool b => b ? "true" : "false",
        string s => $"\"{s}\"",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
