using System.Globalization;
using Peft.Typed.Architecture.Diagnostics;

namespace Peft.Typed.Architecture.Json;

/// <summary>
/// A JSON number kept as written. <see cref="IsInteger"/> is true for literals without fraction or exponent, which is
/// how Python's json module tells an <c>int</c> from a <c>float</c> (<c>1</c> vs <c>1.0</c>).
/// NaN and Infinity (which Python writes and reads) are numbers too.
/// </summary>
public sealed class JsonNumber : JsonValue
{
    public JsonNumber(string text, SourceSpan span)
        : base(span) => Text = text;

    public string Text { get; }

    public bool IsInteger
    {
        get
        {
            foreach (var c in Text)
            {
                if (c is '.' or 'e' or 'E' or 'N' or 'I') return false;
            }
            return true;
        }
    }

    public override JsonValueKind Kind => JsonValueKind.Number;

    /// <summary>The value as a 64-bit integer when the literal is an integer that fits.</summary>
    public bool TryGetInt64(out long value)
    {
        value = 0;
        return IsInteger && long.TryParse(Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    public double ToDouble() => Text switch
    {
        "NaN" => double.NaN,
        "Infinity" => double.PositiveInfinity,
        "-Infinity" => double.NegativeInfinity,
        _ => double.Parse(Text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    public override string Describe() => $"the number {Text}";
}
