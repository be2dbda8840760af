using System.Collections.Frozen;
using System.Text;
using System.Text.RegularExpressions;

namespace Peft.Typed.Models.Tokenizers.Normalization;

/// <summary>
/// A port of <c>ftfy.fix_text</c> (ftfy 6.3.1) with its default configuration, the normalisation OpenAI's CLIP tokenizer
/// applies before anything else: HTML entities (unless the line contains '&lt;'), mojibake repair (ftfy's badness
/// heuristic and its ten single-byte encodings, byte A0 restoration, lossy sequences, inconsistent UTF-8, C1 controls),
/// Latin ligatures, fullwidth/halfwidth forms, curly quotes, line breaks, surrogates, terminal escapes, control characters,
/// then NFC — repeated until the text stops changing, line by line.
/// </summary>
/// <remarks>
/// The tables come from ftfy and CPython themselves (<see cref="FtfyTables"/>). The regular expressions run on UTF-16
/// units where Python's run on code points; they only name BMP characters, so the two agree except for '.' and
/// <c>[^A-Za-z]</c> in two badness rules next to a non-BMP character. NFC uses .NET's ICU data (Unicode 15) where the
/// reference used Python 3.11's Unicode 14.
/// </remarks>
internal static class Ftfy
{
    // ftfy's TextFixerConfig.max_decode_length.
    private const int MaxDecodeLength = 1_000_000;

    private static readonly Charmap[] CharmapEncodings = [.. FtfyTables.CharmapEncodings.Select(e => new Charmap(e.Name, e.Table))];
    private static readonly Charmap SloppyWindows1252 = CharmapEncodings.Single(e => e.Name == "sloppy-windows-1252");

    private static readonly Regex Badness = new(FtfyTables.BadnessPattern, RegexOptions.CultureInvariant);
    private static readonly Regex Utf8Detector = new(FtfyTables.Utf8DetectorPattern, RegexOptions.CultureInvariant);
    private static readonly Regex TerminalEscape = new("\u001b\\[((?:\\d|;)*)([a-zA-Z])", RegexOptions.CultureInvariant);

    // Byte patterns of fixes.py / chardata.py, run on bytes mapped 1:1 to the characters U+0000..U+00FF.
    private static readonly Regex AlteredUtf8 = new(
        "[\u00c2\u00c3\u00c5\u00ce\u00d0\u00d9][ ]"
        + "|[\u00e2\u00e3][ ][\u0080-\u0084\u0086-\u009f\u00a1-\u00bf]"
        + "|[\u00e0-\u00e3][\u0080-\u0084\u0086-\u009f\u00a1-\u00bf][ ]"
        + "|[\u00f0][ ][\u0080-\u00bf][\u0080-\u00bf]"
        + "|[\u00f0][\u0080-\u00bf][ ][\u0080-\u00bf]"
        + "|[\u00f0][\u0080-\u00bf][\u0080-\u00bf][ ]",
        RegexOptions.CultureInvariant);

    private static readonly Regex AGraveWord = new("\u00c3 (?! |quele|quela|quilo|s )", RegexOptions.CultureInvariant);

    private static readonly Regex LossyUtf8 = new(
        "[\u00c2-\u00df][\u001a]"
        + "|[\u00c2-\u00c3][?]"
        + "|\u00ed[\u00a0-\u00af][\u001a?]\u00ed[\u00b0-\u00bf][\u001a?\u0080-\u00bf]"
        + "|\u00ed[\u00a0-\u00af][\u001a?\u0080-\u00bf]\u00ed[\u00b0-\u00bf][\u001a?]"
        + "|[\u00e0-\u00ef][\u001a?][\u001a\u0080-\u00bf]"
        + "|[\u00e0-\u00ef][\u001a\u0080-\u00bf][\u001a?]"
        + "|[\u00f0-\u00f4][\u001a?][\u001a\u0080-\u00bf][\u001a\u0080-\u00bf]"
        + "|[\u00f0-\u00f4][\u001a\u0080-\u00bf][\u001a?][\u001a\u0080-\u00bf]"
        + "|[\u00f0-\u00f4][\u001a\u0080-\u00bf][\u001a\u0080-\u00bf][\u001a?]"
        + "|\u001a",
        RegexOptions.CultureInvariant);

    private static readonly FrozenSet<int> ControlChars = FrozenSet.ToFrozenSet(
        Enumerable.Range(0x00, 9)
            .Append(0x0B)
            .Concat(Enumerable.Range(0x0E, 0x20 - 0x0E))
            .Append(0x7F)
            .Concat(Enumerable.Range(0x206A, 0x2070 - 0x206A))
            .Append(0xFEFF)
            .Concat(Enumerable.Range(0xFFF9, 0xFFFD - 0xFFF9)));

    /// <summary><c>ftfy.fix_text(text)</c> with the default configuration.</summary>
    public static string FixText(string text)
    {
        var output = new StringBuilder(text.Length);
        // unescape_html="auto": ftfy turns it off for the first line containing '<' and, as its loop reassigns the
        // config, for every later line too.
        var unescapeHtml = true;
        var position = 0;
        while (position < text.Length)
        {
            var lineBreak = text.IndexOf('\n', position) + 1;
            if (lineBreak == 0) lineBreak = text.Length;
            if (lineBreak - position > MaxDecodeLength) lineBreak = position + MaxDecodeLength;
            var segment = text[position..lineBreak];
            if (segment.Contains('<')) unescapeHtml = false;
            output.Append(FixSegment(segment, unescapeHtml));
            position = lineBreak;
        }
        return output.ToString();
    }

    /// <summary>ftfy's <c>is_bad</c>: the text contains a sequence that is much more likely mojibake than intended.</summary>
    public static bool IsBad(string text) => Badness.IsMatch(text);

    // fix_and_explain: apply every fixer in ftfy's order until nothing changes.
    private static string FixSegment(string text, bool unescapeHtml)
    {
        while (true)
        {
            var original = text;
            if (unescapeHtml) text = HtmlEntities.UnescapeFtfy(text);
            text = FixEncoding(text);
            text = FixC1Controls(text);
            text = Translate(text, FtfyTables.Ligatures);
            text = Translate(text, FtfyTables.WidthMap);
            text = UncurlQuotes(text);
            text = FixLineBreaks(text);
            text = FixSurrogates(text);
            text = TerminalEscape.Replace(text, "");
            text = RemoveControlChars(text);
            text = text.Normalize(NormalizationForm.FormC);
            if (text == original) return text;
        }
    }

    /// <summary><c>ftfy.fix_encoding</c>: repeat one repair step until the text stops changing.</summary>
    private static string FixEncoding(string text)
    {
        while (true)
        {
            var previous = text;
            text = FixEncodingOneStep(text);
            if (text == previous) return text;
        }
    }

    private static string FixEncodingOneStep(string text)
    {
        if (text.Length == 0 || text.All(char.IsAscii) || !IsBad(text)) return text;

        // Text that was UTF-8, decoded with a single-byte encoding: encode it back and decode as UTF-8.
        var possible = new List<string>();
        foreach (var encoding in CharmapEncodings)
        {
            if (!encoding.CanEncode(text)) continue;
            possible.Add(encoding.Name);
            var bytes = encoding.Encode(text);
            if (encoding.Name != "macroman" && AlteredUtf8.IsMatch(Latin1(bytes))) bytes = RestoreByteA0(bytes);
            if (encoding.Name.StartsWith("sloppy", StringComparison.Ordinal)) bytes = ReplaceLossySequences(bytes);
            var fixedText = bytes.Contains((byte)0xED) || bytes.Contains((byte)0xC0)
                ? Utf8Variants.TryDecodeVariants(bytes)
                : Utf8Variants.TryDecodeUtf8(bytes);
            if (fixedText is not null) return fixedText;
        }

        if (Utf8Detector.IsMatch(text))
        {
            var fixedText = DecodeInconsistentUtf8(text);
            if (fixedText != text) return fixedText;
        }

        // ftfy compares with "windows-1252", which is not among the encodings it tries (only "sloppy-windows-1252" is),
        // so Latin-1-encodable text always gets the Latin-1 -> Windows-1252 attempt.
        if (possible.Contains("latin-1"))
        {
            var windows1252 = DecodeWindows1252(text);
            if (windows1252 is not null && windows1252 != text) return windows1252;
        }

        return text.Any(IsC1Control) ? FixC1Controls(text) : text;
    }

    // fixes.restore_byte_a0
    private static byte[] RestoreByteA0(byte[] bytes)
    {
        var text = AGraveWord.Replace(Latin1(bytes), "\u00c3\u00a0 ");
        text = AlteredUtf8.Replace(text, m => m.Value.Replace(' ', '\u00a0'));
        return FromLatin1(text);
    }

    // fixes.replace_lossy_sequences: UTF-8 sequences with lost bytes (0x1A from a sloppy codec, or '?') become U+FFFD.
    private static byte[] ReplaceLossySequences(byte[] bytes) =>
        FromLatin1(LossyUtf8.Replace(Latin1(bytes), "\u00ef\u00bf\u00bd"));

    // fixes.decode_inconsistent_utf8: fix UTF-8 mojibake embedded in otherwise different text.
    private static string DecodeInconsistentUtf8(string text) =>
        Utf8Detector.Replace(text, m => m.Value.Length < text.Length && IsBad(m.Value) ? FixEncoding(m.Value) : m.Value);

    // text.encode("latin-1").decode("windows-1252"), or null on a UnicodeDecodeError (bytes 81, 8D, 8F, 90, 9D).
    private static string? DecodeWindows1252(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            var decoded = FtfyTables.Windows1252[c];
            if (decoded == '\uFFFD') return null;
            builder.Append(decoded);
        }
        return builder.ToString();
    }

    private static bool IsC1Control(char c) => c is >= '\u0080' and <= '\u009F';

    // fixes.fix_c1_controls: C1 controls read as their sloppy-windows-1252 characters, as browsers do.
    private static string FixC1Controls(string text)
    {
        if (!text.Any(IsC1Control)) return text;
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (IsC1Control(chars[i])) chars[i] = SloppyWindows1252.Decode[chars[i]];
        }
        return new string(chars);
    }

    private static string Translate(string text, Dictionary<int, string> map)
    {
        StringBuilder? builder = null;
        for (var i = 0; i < text.Length; i++)
        {
            if (map.TryGetValue(text[i], out var replacement))
            {
                builder ??= new StringBuilder(text, 0, i, text.Length);
                builder.Append(replacement);
            }
            else
            {
                builder?.Append(text[i]);
            }
        }
        return builder?.ToString() ?? text;
    }

    // fixes.uncurl_quotes: [\u02bc\u2018-\u201b] -> ' and [\u201c-\u201f] -> "
    private static string UncurlQuotes(string text)
    {
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (chars[i] is '\u02BC' or (>= '\u2018' and <= '\u201B')) chars[i] = '\'';
            else if (chars[i] is >= '\u201C' and <= '\u201F') chars[i] = '"';
        }
        return new string(chars);
    }

    private static string FixLineBreaks(string text) =>
        text.Replace("\r\n", "\n").Replace('\r', '\n').Replace('\u2028', '\n').Replace('\u2029', '\n').Replace('\u0085', '\n');

    // fixes.fix_surrogates: a .NET string holds a valid pair as the character itself; any unpaired surrogate becomes U+FFFD.
    private static string FixSurrogates(string text)
    {
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1])) i++;
            else if (char.IsSurrogate(chars[i])) chars[i] = '\uFFFD';
        }
        return new string(chars);
    }

    private static string RemoveControlChars(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (!ControlChars.Contains(c)) builder.Append(c);
        }
        return builder.ToString();
    }

    private static string Latin1(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    private static byte[] FromLatin1(string text) => Encoding.Latin1.GetBytes(text);
}
