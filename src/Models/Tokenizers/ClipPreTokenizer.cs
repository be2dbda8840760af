using System.Globalization;
using System.Text;
using Peft.Typed.Models.Tokenizers.Normalization;

namespace Peft.Typed.Models.Tokenizers;

/// <summary>
/// <c>regex.findall</c> of CLIP's word pattern (IGNORECASE), written out by hand so it runs on code points with the
/// <c>regex</c> module's meaning of <c>\s</c>, <c>\p{L}</c> and <c>\p{N}</c>:
/// <c>&lt;\|startoftext\|&gt;|&lt;\|endoftext\|&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>.
/// Alternatives are tried in that order at each position, so a punctuation run swallows a following "'s" and digits are
/// single words.
/// </summary>
internal static class ClipPreTokenizer
{
    // In order: the regex tries each alternative in turn at a position.
    private static readonly string[] Literals = ["<|startoftext|>", "<|endoftext|>", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    public static List<string> Split(string text)
    {
        var codePoints = PythonText.CodePoints(text);
        var words = new List<string>();
        var i = 0;
        while (i < codePoints.Length)
        {
            var length = MatchAt(codePoints, i);
            if (length == 0)
            {
                i++;
                continue;
            }
            var word = new StringBuilder();
            for (var k = i; k < i + length; k++) PythonText.Append(word, codePoints[k]);
            words.Add(word.ToString());
            i += length;
        }
        return words;
    }

    private static int MatchAt(int[] cps, int start)
    {
        foreach (var literal in Literals)
        {
            if (MatchesIgnoreCase(cps, start, literal)) return literal.Length;
        }
        if (IsLetter(cps[start]))
        {
            var end = start;
            while (end < cps.Length && IsLetter(cps[end])) end++;
            return end - start;
        }
        if (IsNumber(cps[start])) return 1;
        if (!PythonText.IsRegexSpace(cps[start]))
        {
            var end = start;
            while (end < cps.Length && !PythonText.IsRegexSpace(cps[end]) && !IsLetter(cps[end]) && !IsNumber(cps[end])) end++;
            return end - start;
        }
        return 0;
    }

    // The text is already lowercase, so IGNORECASE only adds what simple case folding equates with a lowercase ASCII
    // letter of the literals: U+017F LATIN SMALL LETTER LONG S folds to 's'.
    private static bool MatchesIgnoreCase(int[] cps, int start, string literal)
    {
        if (start + literal.Length > cps.Length) return false;
        for (var k = 0; k < literal.Length; k++)
        {
            var c = cps[start + k];
            if (c != literal[k] && !(literal[k] == 's' && c == 0x17F)) return false;
        }
        return true;
    }

    private static bool IsLetter(int codePoint) => CharUnicodeInfo.GetUnicodeCategory(codePoint) is
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
        or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter;

    private static bool IsNumber(int codePoint) => CharUnicodeInfo.GetUnicodeCategory(codePoint) is
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;
}
