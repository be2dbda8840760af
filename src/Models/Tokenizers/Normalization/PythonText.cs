using System.Collections.Frozen;
using System.Text;

namespace Peft.Typed.Models.Tokenizers.Normalization;

/// <summary>
/// The CPython string operations the CLIP reference tokenizer relies on, on code points (not UTF-16 units) and with
/// CPython's Unicode 14 data (<see cref="FtfyTables"/>): .NET's <c>ToLowerInvariant</c> is a context-free simple case
/// mapping, so it cannot give <c>İ</c> → <c>i̇</c> (two characters) or the word-final <c>ς</c> that <c>str.lower()</c> gives.
/// </summary>
internal static class PythonText
{
    private static readonly FrozenSet<int> StrWhitespace = FtfyTables.PythonWhitespace.ToFrozenSet();
    private static readonly FrozenSet<int> RegexWhitespace = FtfyTables.RegexWhitespace.ToFrozenSet();

    /// <summary>CPython <c>str.isspace()</c> for one code point (includes U+001C..U+001F, unlike Unicode White_Space).</summary>
    public static bool IsSpace(int codePoint) => StrWhitespace.Contains(codePoint);

    /// <summary><c>\s</c> of the <c>regex</c> module: Unicode White_Space.</summary>
    public static bool IsRegexSpace(int codePoint) => RegexWhitespace.Contains(codePoint);

    /// <summary>The code points of <paramref name="text"/>; an unpaired surrogate stays one code point, as in Python.</summary>
    public static int[] CodePoints(string text)
    {
        var result = new List<int>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                result.Add(char.ConvertToUtf32(text[i], text[i + 1]));
                i++;
            }
            else
            {
                result.Add(text[i]);
            }
        }
        return [.. result];
    }

    /// <summary>Appends one code point (a lone surrogate is appended as it is).</summary>
    public static void Append(StringBuilder builder, int codePoint)
    {
        if (codePoint < 0x10000) builder.Append((char)codePoint);
        else builder.Append(char.ConvertFromUtf32(codePoint));
    }

    /// <summary>CPython <c>str.strip()</c>.</summary>
    public static string Strip(string text)
    {
        var start = 0;
        var end = text.Length;
        while (start < end && IsSpace(text[start])) start++;
        while (end > start && IsSpace(text[end - 1])) end--;
        return text[start..end];
    }

    /// <summary><c>regex.sub(r"\s+", " ", text)</c>.</summary>
    public static string CollapseRegexWhitespace(string text)
    {
        var builder = new StringBuilder(text.Length);
        var inRun = false;
        foreach (var c in text)
        {
            if (IsRegexSpace(c))
            {
                if (!inRun) builder.Append(' ');
                inRun = true;
            }
            else
            {
                builder.Append(c);
                inRun = false;
            }
        }
        return builder.ToString();
    }

    /// <summary>
    /// CPython <c>str.lower()</c>: the full lowercase mapping (U+0130 → "i\u0307") and the Final_Sigma rule for U+03A3.
    /// </summary>
    public static string Lower(string text)
    {
        var codePoints = CodePoints(text);
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < codePoints.Length; i++)
        {
            var c = codePoints[i];
            if (c == 0x3A3) Append(builder, IsFinalSigma(codePoints, i) ? 0x3C2 : 0x3C3);
            else if (FtfyTables.MultiCharLower.TryGetValue(c, out var several)) builder.Append(several);
            else Append(builder, FtfyTables.SimpleLower.TryGetValue(c, out var lower) ? lower : c);
        }
        return builder.ToString();
    }

    // CPython's handle_capital_sigma: \p{cased} \p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased}).
    private static bool IsFinalSigma(int[] codePoints, int index)
    {
        var j = index - 1;
        while (j >= 0 && InRanges(FtfyTables.CaseIgnorable, codePoints[j])) j--;
        if (j < 0 || !InRanges(FtfyTables.Cased, codePoints[j])) return false;
        j = index + 1;
        while (j < codePoints.Length && InRanges(FtfyTables.CaseIgnorable, codePoints[j])) j++;
        return j == codePoints.Length || !InRanges(FtfyTables.Cased, codePoints[j]);
    }

    private static bool InRanges((int First, int Last)[] ranges, int codePoint)
    {
        int low = 0, high = ranges.Length - 1;
        while (low <= high)
        {
            var mid = (low + high) / 2;
            if (codePoint < ranges[mid].First) high = mid - 1;
            else if (codePoint > ranges[mid].Last) low = mid + 1;
            else return true;
        }
        return false;
    }
}
