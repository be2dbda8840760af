using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Text;

namespace Peft.Typed.Models.Tokenizers;

/// <summary>
/// GPT-2/CLIP byte-level BPE: a word's UTF-8 bytes become the 256 printable symbols of <c>bytes_to_unicode()</c>, the
/// last symbol gets the <c>&lt;/w&gt;</c> end-of-word marker, then the adjacent pair with the lowest merge rank is merged
/// (all its occurrences, left to right) until no adjacent pair has a rank. Results are cached per word.
/// </summary>
internal sealed class BytePairEncoder
{
    public const string EndOfWord = "</w>";

    private static readonly string[] ByteSymbols = BuildByteSymbols();

    private readonly FrozenDictionary<(string, string), int> _ranks;
    private readonly ConcurrentDictionary<string, string[]> _cache = new(StringComparer.Ordinal);

    public BytePairEncoder(IReadOnlyList<(string Left, string Right)> merges)
    {
        var ranks = new Dictionary<(string, string), int>(merges.Count);
        for (var rank = 0; rank < merges.Count; rank++) ranks.TryAdd(merges[rank], rank);
        _ranks = ranks.ToFrozenDictionary();
    }

    /// <summary>The byte-level symbol string of a word: one symbol per UTF-8 byte.</summary>
    public static string ToByteSymbols(string word)
    {
        var builder = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(word)) builder.Append(ByteSymbols[b]);
        return builder.ToString();
    }

    /// <summary>The BPE tokens of one word given as byte symbols (as <see cref="ToByteSymbols"/> returns).</summary>
    public string[] Encode(string byteSymbols) => _cache.GetOrAdd(byteSymbols, Merge);

    private string[] Merge(string byteSymbols)
    {
        var word = new List<string>(byteSymbols.Length);
        foreach (var c in byteSymbols) word.Add(c.ToString());
        word[^1] += EndOfWord;

        while (word.Count > 1)
        {
            var best = -1;
            var bestRank = int.MaxValue;
            for (var i = 0; i < word.Count - 1; i++)
            {
                if (_ranks.TryGetValue((word[i], word[i + 1]), out var rank) && rank < bestRank)
                {
                    bestRank = rank;
                    best = i;
                }
            }
            if (best < 0) break;

            var (first, second) = (word[best], word[best + 1]);
            var merged = new List<string>(word.Count);
            for (var i = 0; i < word.Count; i++)
            {
                if (i < word.Count - 1 && word[i] == first && word[i + 1] == second)
                {
                    merged.Add(first + second);
                    i++;
                }
                else
                {
                    merged.Add(word[i]);
                }
            }
            word = merged;
        }
        return [.. word];
    }

    // GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the other 68 to U+0100 onwards in byte order.
    private static string[] BuildByteSymbols()
    {
        var symbols = new string[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= '¡' and <= '¬' or >= '®' and <= 'ÿ';
            symbols[b] = ((char)(printable ? b : next++)).ToString();
        }
        return symbols;
    }
}
