namespace Peft.Typed.Models.Tokenizers.Normalization;

/// <summary>
/// The text clean-up of OpenAI's CLIP <c>SimpleTokenizer</c> (the reference of the Stable Diffusion tokenizer):
/// <c>basic_clean</c> = <c>ftfy.fix_text</c>, <c>html.unescape</c> twice, <c>strip()</c>; <c>whitespace_clean</c> =
/// <c>regex.sub(r"\s+", " ")</c>, <c>strip()</c>; then Python's <c>str.lower()</c>.
/// </summary>
internal static class ClipTextNormalizer
{
    public static string Normalize(string text)
    {
        var cleaned = Ftfy.FixText(text);
        cleaned = PythonText.Strip(HtmlEntities.Unescape(HtmlEntities.Unescape(cleaned)));
        cleaned = PythonText.Strip(PythonText.CollapseRegexWhitespace(cleaned));
        return PythonText.Lower(cleaned);
    }
}
