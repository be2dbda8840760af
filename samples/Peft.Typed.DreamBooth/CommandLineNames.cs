using System.Reflection;
using System.Runtime.Serialization;
using System.Text;
using Peft.Typed.Training;

namespace Peft.Typed.DreamBooth;

/// <summary>
/// The command line spells enum values as the Python scripts do, in snake_case (<c>constant_with_warmup</c>,
/// <c>v_prediction</c>), or as a value's <see cref="EnumMemberAttribute"/> says where snake_case would differ
/// from the scripts' spelling (<c>adamw</c>).
/// </summary>
internal static class CommandLineNames
{
    public static string Of<T>(T value) where T : struct, Enum =>
        typeof(T).GetField(value.ToString())?.GetCustomAttribute<EnumMemberAttribute>()?.Value ?? SnakeCase(value.ToString());

    /// <summary>The value spelled <paramref name="text"/>; otherwise one line naming the option and every valid spelling.</summary>
    public static T Parse<T>(string option, string text) where T : struct, Enum
    {
        foreach (var value in Enum.GetValues<T>())
        {
            if (string.Equals(Of(value), text, StringComparison.OrdinalIgnoreCase)) return value;
        }
        throw new DreamBoothOptionException(option, $"--{option} {text}: must be one of {string.Join(", ", Enum.GetValues<T>().Select(Of))}");
    }

    private static string SnakeCase(string name)
    {
        var builder = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) builder.Append('_');
            builder.Append(char.ToLowerInvariant(name[i]));
        }
        return builder.ToString();
    }
}
