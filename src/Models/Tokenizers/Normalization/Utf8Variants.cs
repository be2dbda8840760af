using System.Text;

namespace Peft.Typed.Models.Tokenizers.Normalization;

/// <summary>
/// Strict UTF-8 decoding as Python's <c>bytes.decode("utf-8")</c>, and ftfy's <c>utf-8-variants</c> codec, which also
/// accepts CESU-8 (a surrogate pair written as two 3-byte sequences) and Java's two-byte null <c>C0 80</c>.
/// </summary>
internal static class Utf8Variants
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Decodes strict UTF-8, or returns null where Python raises UnicodeDecodeError.</summary>
    public static string? TryDecodeUtf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return Strict.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>Decodes with ftfy's <c>utf-8-variants</c>, or returns null where it raises UnicodeDecodeError.</summary>
    public static string? TryDecodeVariants(ReadOnlySpan<byte> bytes)
    {
        var builder = new StringBuilder(bytes.Length);
        var plainStart = 0;
        var i = 0;
        while (i < bytes.Length)
        {
            int consumed;
            string special;
            if (bytes[i] == 0xC0 && i + 1 < bytes.Length && bytes[i + 1] == 0x80)
            {
                special = "\0";
                consumed = 2;
            }
            else if (IsCesu8Pair(bytes[i..]))
            {
                var codePoint = ((bytes[i + 1] & 0x0F) << 16) + ((bytes[i + 2] & 0x3F) << 10)
                    + ((bytes[i + 4] & 0x0F) << 6) + (bytes[i + 5] & 0x3F) + 0x10000;
                special = char.ConvertFromUtf32(codePoint);
                consumed = 6;
            }
            else
            {
                // A lone encoded surrogate (ED A0..BF) is left to the strict decoder, which rejects it.
                i++;
                continue;
            }
            if (TryDecodeUtf8(bytes[plainStart..i]) is not { } plain) return null;
            builder.Append(plain).Append(special);
            i += consumed;
            plainStart = i;
        }
        if (TryDecodeUtf8(bytes[plainStart..]) is not { } rest) return null;
        return builder.Append(rest).ToString();
    }

    // ED [A0-AF] [80-BF] ED [B0-BF] [80-BF]
    private static bool IsCesu8Pair(ReadOnlySpan<byte> b) =>
        b.Length >= 6 && b[0] == 0xED && b[1] is >= 0xA0 and <= 0xAF && b[2] is >= 0x80 and <= 0xBF
        && b[3] == 0xED && b[4] is >= 0xB0 and <= 0xBF && b[5] is >= 0x80 and <= 0xBF;
}
