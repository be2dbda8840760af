using Peft.Typed.Models.Tokenizers.Normalization;

namespace Peft.Typed.Models.Tests.Tokenizers;

/// <summary>
/// The normalisation pieces against CPython 3.11 with ftfy 6.3.1: every expected value below was printed by
/// <c>ftfy.fix_text</c>, <c>html.unescape</c> and <c>str.lower</c> (inputs: ftfy's own in-the-wild and synthetic test
/// cases, plus edge cases of each fixer).
/// </summary>
public class PythonNormalizationTests
{
    [Theory]
    [InlineData("He's Justin\u00E2\u009D\u00A4", "He's Justin\u2764")]
    [InlineData("Le Schtroumpf Docteur conseille g\u221A\u00A2teaux et baies schtroumpfantes pour un r\u221A\u00A9gime \u221A\u00A9quilibr\u221A\u00A9.", "Le Schtroumpf Docteur conseille g\u00E2teaux et baies schtroumpfantes pour un r\u00E9gime \u00E9quilibr\u00E9.")]
    [InlineData("\u00E2\u0153\u201D No problems", "\u2714 No problems")]
    [InlineData("\u0420\u0491\u0420\u0455\u0421\u0402\u0420\u0455\u0420\u0456\u0420\u00B5 \u0420\u0098\u0420\u00B7-\u0420\u0457\u0420\u0455\u0420\u0491 #\u0421\u201E\u0421\u0453\u0421\u201A\u0420\u00B1\u0420\u0455\u0420\u00BB", "\u0434\u043E\u0440\u043E\u0433\u0435 \u0418\u0437-\u043F\u043E\u0434 #\u0444\u0443\u0442\u0431\u043E\u043B")]
    [InlineData("\u0084Handwerk bringt dich \u00FCberall hin\u0093: Von der YOU bis nach Monaco", "\"Handwerk bringt dich \u00FCberall hin\": Von der YOU bis nach Monaco")]
    [InlineData("Some comments may be republished on the website or in the newspaper \u00EF\u00BF\u00BD email addresses will not be published.", "Some comments may be republished on the website or in the newspaper \uFFFD email addresses will not be published.")]
    [InlineData("Hi guys \u00ED\u00A0\u00BD\u00ED\u00B8\u008D", "Hi guys \U0001F60D")]
    [InlineData("hihi RT username: \u00E2\u0098\u00BA\u00ED\u00A0\u00BD\u00ED\u00B8\u0098", "hihi RT username: \u263A\U0001F618")]
    [InlineData("Beta Haber: H\u00C4\u00B1rs\u00C4\u00B1z\u00C4\u00B1 B\u00C3\u00BCy\u00C3\u00BC Korkuttu", "Beta Haber: H\u0131rs\u0131z\u0131 B\u00FCy\u00FC Korkuttu")]
    [InlineData("\u00C4\u00B0stanbul", "\u0130stanbul")]
    [InlineData("RUF MICH ZUR\u00C3\u0153CK", "RUF MICH ZUR\u00DCCK")]
    [InlineData("R\u00C4\u00ABga", "R\u012Bga")]
    [InlineData("\u0420\u00A0\u0421\u2014\u0420\u040E\u0420\u201A\u0420\u00A0\u0421\u2018\u0420\u040E\u0420\u040F\u0420\u040E\u0432\u0402\u0459\u0420\u00A0\u0420\u2026\u0420\u00A0\u0421\u2022\u0420\u040E\u0420\u0453\u0420\u040E\u0432\u0402\u0459\u0420\u00A0\u0421\u2018. \u0420\u0406\u0421\u045A\u0412\u00A4", "\u043F\u0440\u0438\u044F\u0442\u043D\u043E\u0441\u0442\u0438. \u2764")]
    [InlineData("Kayanya laptopku error deh, soalnya tiap mau ngetik deket-deket kamu font yg keluar selalu Times New \u00C3\u00A2\u00E2\u201A\u00AC\u00C5\u201C Romance\u00C3\u00A2\u00E2\u201A\u00AC\u00C2\u009D.", "Kayanya laptopku error deh, soalnya tiap mau ngetik deket-deket kamu font yg keluar selalu Times New \" Romance\".")]
    [InlineData("voil\u00C3  le travail", "voil\u00E0 le travail")]
    [InlineData("voil\u00C3 le travail", "voil\u00E0 le travail")]
    [InlineData("\u00D7\u2018\u00D7\u201D\u00D7\u2022\u00D7\u201C\u00D7\u02D8\u00D7\u201D", "\u05D1\u05D4\u05D5\u05D3\u05E2\u05D4")]
    [InlineData("\u25CA\u00EB\u25CA\u00EE\u25CA\u00EF\u25CA\u00EC\u25CA\u00A2\u25CA\u00EE", "\u05D1\u05D4\u05D5\u05D3\u05E2\u05D4")]
    [InlineData("\u00D7\u0090\u00D7\u0091\u00D7\u0091\u00D7\u0090", "\u05D0\u05D1\u05D1\u05D0")]
    [InlineData("\u00D8\u00B1\u00D8\u00B3\u00D8\u00A7\u00D9\u201E\u00D8\u00A9", "\u0631\u0633\u0627\u0644\u0629")]
    [InlineData("\u0158\u00B1\u0158\u0142\u0158\u00A7\u016E\u201E\u0158\u00A9", "\u0631\u0633\u0627\u0644\u0629")]
    [InlineData("\u00FF\u00B1\u00FF\u2265\u00FF\u00DF\u0178\u00D1\u00FF\u00A9", "\u0631\u0633\u0627\u0644\u0629")]
    [InlineData("s\u00C3\u00B3 voil\u00C3 le travail", "s\u00F3 voil\u00E0 le travail")]
    [InlineData("\u00C3 la mode", "\u00E0 la mode")]
    [InlineData("\u00E2\u20AC\u0153 like this \u00E2\u20AC\uFFFD", "\" like this \uFFFD")]
    [InlineData("\u0080\u0081\u008D", "\u20AC\u0081\u008D")]
    [InlineData("a<b &amp; c\u000Ad &amp; e", "a<b &amp; c\u000Ad &amp; e")]
    [InlineData("&amp;\u000Aa<b &amp;", "&\u000Aa<b &amp;")]
    [InlineData("\u001B[36mblue\u001B[0m", "blue")]
    [InlineData("\u2028x\u2029y\u000D\u000Az\u000Dw", "\u000Ax\u000Ay\u000Az\u000Aw")]
    [InlineData("\uFB02u\uFB03e\uFB06 \uFF35\uFF80\uFF70\uFF9D\u3000x", "fluffiest U\u30BF\u30FC\u30F3 x")]
    [InlineData("\u001C\u001Dtest\u001E\u001F\uFEFF\u206A\uFFF9", "test")]
    [InlineData("\u01C5 \u01C8 \u0132", "D\u017E Lj IJ")]
    [InlineData("&NTILDE; &nTILDE; &SZLIG; &#59; &#x41; &amp &notin;", "\u00D1 &nTILDE; SS &#59; A &amp \u2209")]
    [InlineData("cafe\u0301", "caf\u00E9")]
    [InlineData("\u00F0\u009F\u0098\u0080", "\U0001F600")]
    public void Ftfy_fix_text_matches_ftfy(string input, string expected) => Assert.Equal(expected, Ftfy.FixText(input));

    [Theory]
    [InlineData("&amp &ampx &notit; &notin &#x110000; &#0; &#128; &#xD800; &#65 &#x1F600; &#9999999999999999999999;", "& &x \u00ACit; \u00ACin \uFFFD \uFFFD \u20AC \uFFFD A \U0001F600 \uFFFD")]
    [InlineData("&;&#;&#x;&lt&gt;&AMP;&Amp;", "&;&#;&#x;<>&&Amp;")]
    [InlineData("&CounterClockwiseContourIntegral; &thickapprox x&amp;amp;", "\u2233 &thickapprox x&amp;")]
    public void Html_unescape_matches_python(string input, string expected) => Assert.Equal(expected, HtmlEntities.Unescape(input));

    [Theory]
    [InlineData("\u0130stanbul", "i\u0307stanbul")]
    [InlineData("\u039F\u0394\u039F\u03A3 \u03C3\u03C4\u03B7\u03BD", "\u03BF\u03B4\u03BF\u03C2 \u03C3\u03C4\u03B7\u03BD")]
    [InlineData("\u0391\u03A3\u0301 x", "\u03B1\u03C2\u0301 x")]
    [InlineData("\U0001D400\u03A3", "\U0001D400\u03C2")]
    [InlineData("\u24D0\u03A3", "\u24D0\u03C2")]
    [InlineData("\u03A3", "\u03C3")]
    [InlineData("A\u03A3.B", "a\u03C3.b")]
    [InlineData("\u03A3\u0391\u03A3 \u03A3 a\u03A3. \u038C\u03A3\u039F\u03A3'", "\u03C3\u03B1\u03C2 \u03C3 a\u03C2. \u03CC\u03C3\u03BF\u03C2'")]
    [InlineData("\u00C0\u00C9\u00CE \u1E9E \u01C4 \u01C5", "\u00E0\u00E9\u00EE \u00DF \u01C6 \u01C6")]
    [InlineData("\uFF26 \u03A9 K \u00C5", "\uFF46 \u03C9 k \u00E5")]
    public void Lower_matches_python_str_lower(string input, string expected) => Assert.Equal(expected, PythonText.Lower(input));

    [Fact]
    public void Strip_and_collapse_use_pythons_two_whitespace_sets()
    {
        // str.strip() also strips U+001C..U+001F; regex's \s (White_Space) does not collapse them.
        Assert.Equal("a", PythonText.Strip("\u001c a \u001f"));
        Assert.Equal("a \u001c b", PythonText.CollapseRegexWhitespace("a\t\n\u001c\u3000b"));
    }
}
