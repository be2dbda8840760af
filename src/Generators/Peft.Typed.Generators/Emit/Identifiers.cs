using System.Collections.Generic;
using System.Text;

namespace Peft.Typed.Generators.Emit;

/// <summary>C# names for Python names: <c>to_out.0</c> is <c>ToOut0</c>, <c>ff.net.0.proj</c> is <c>FfNet0Proj</c>.</summary>
internal static class Identifiers
{
    /// <summary>PascalCase: every part between '.', '_' or another non-identifier character starts upper case; the rest is kept.</summary>
    public static string Pascal(string name)
    {
        var result = new StringBuilder(name.Length);
        bool upper = true;
        foreach (char c in name)
        {
            if (!char.IsLetterOrDigit(c))
            {
                upper = true;
                continue;
            }
            result.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        if (result.Length == 0 || char.IsDigit(result[0])) result.Insert(0, '_');
        return result.ToString();
    }

    /// <summary><paramref name="name"/>, or with "_2", "_3", ... appended until it is not in <paramref name="taken"/>; the result is added to it.</summary>
    public static string Unique(string name, ISet<string> taken)
    {
        var candidate = name;
        for (int n = 2; !taken.Add(candidate); n++) candidate = name + "_" + n;
        return candidate;
    }

    /// <summary>A C# string literal for <paramref name="value"/>.</summary>
    public static string Literal(string value)
    {
        var result = new StringBuilder(value.Length + 2).Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': result.Append("\\\""); break;
                case '\\': result.Append("\\\\"); break;
                case '\n': result.Append("\\n"); break;
                case '\r': result.Append("\\r"); break;
                case '\t': result.Append("\\t"); break;
                default:
                    if (char.IsControl(c)) result.Append("\\u").Append(((int)c).ToString("x4"));
                    else result.Append(c);
                    break;
            }
        }
        return result.Append('"').ToString();
    }

    /// <summary>A verbatim string literal (<c>@"..."</c>) keeping line breaks, for the baked config text.</summary>
    public static string VerbatimLiteral(string value) => "@\"" + value.Replace("\"", "\"\"") + "\"";

    /// <summary>Text safe inside an XML doc comment.</summary>
    public static string Xml(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
