using System.Globalization;
using Peft.Typed.Architecture.Configs;

namespace Peft.Typed.Architecture.Validation;

/// <summary>Writes option values in messages the way they appear in config.json ('silu', 8, true, null, [5, 10]).</summary>
internal static class OptionText
{
    public static string Of(object? value) => value switch
    {
        null => "null",
        string s => $"'{s}'",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        int i => i.ToString(CultureInfo.InvariantCulture),
        ScalarOrList<int> list => list.ToString(),
        ScalarOrList<bool> list => list.ToString(),
        _ => value.ToString() ?? "",
    };

    public static string List(string[] values) => string.Join(", ", values);
}
