using System.Collections.Frozen;
using System.Text.Json;
using Peft.Typed.Models.Loading;
using Peft.Typed.Models.Tokenizers.Normalization;

namespace Peft.Typed.Models.Tokenizers;

/// <summary>
/// The CLIP BPE tokenizer of Stable Diffusion text encoders, reading a Hugging Face tokenizer folder
/// (<c>vocab.json</c> + <c>merges.txt</c>, as in a pipeline's <c>tokenizer/</c>).
/// </summary>
/// <remarks>
/// Gives the ids of OpenAI's reference <c>SimpleTokenizer</c>, normalisation included: <c>ftfy.fix_text</c> (ported,
/// see <see cref="Ftfy"/>), <c>html.unescape</c> twice, whitespace collapsing, Python's full lowercasing, CLIP's word
/// pattern on code points, byte-level BPE on UTF-8 bytes. Hugging Face's <c>CLIPTokenizer</c> gives the same ids when
/// ftfy is installed; without ftfy, and <c>CLIPTokenizerFast</c>, differ on HTML entities, curly quotes, mojibake,
/// ligatures, control characters and CJK (docs/tokenizer.md).
/// </remarks>
public sealed class ClipTokenizer
{
    /// <summary>The begin-of-text token.</summary>
    public const string StartOfText = "<|startoftext|>";

    /// <summary>The end-of-text token, also SD 1.x's padding.</summary>
    public const string EndOfText = "<|endoftext|>";

    /// <summary>The sequence length of every CLIP text encoder of Stable Diffusion.</summary>
    public const int ModelMaxLength = 77;

    private readonly FrozenDictionary<string, int> _vocabulary;
    private readonly BytePairEncoder _bpe;
    private readonly string _vocabularyPath;

    private ClipTokenizer(FrozenDictionary<string, int> vocabulary, IReadOnlyList<(string, string)> merges, int padId, string vocabularyPath)
    {
        _vocabulary = vocabulary;
        _bpe = new BytePairEncoder(merges);
        _vocabularyPath = vocabularyPath;
        MergeCount = merges.Count;
        BosId = vocabulary[StartOfText];
        EosId = vocabulary[EndOfText];
        PadId = padId;
    }

    /// <summary>Id of <c>&lt;|startoftext|&gt;</c> (49406 in CLIP).</summary>
    public int BosId { get; }

    /// <summary>Id of <c>&lt;|endoftext|&gt;</c> (49407 in CLIP).</summary>
    public int EosId { get; }

    /// <summary>Padding id: the folder's <c>pad_token</c> (SD 2.x: "!" = 0), else <see cref="EosId"/> (SD 1.x).</summary>
    public int PadId { get; }

    /// <summary>Number of entries of vocab.json.</summary>
    public int VocabularySize => _vocabulary.Count;

    /// <summary>Number of merges read from merges.txt.</summary>
    public int MergeCount { get; }

    /// <summary>
    /// Reads <c>vocab.json</c> and <c>merges.txt</c> from <paramref name="folder"/>, and the pad token from
    /// <c>special_tokens_map.json</c> or else <c>tokenizer_config.json</c> when present.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">vocab.json or merges.txt is missing.</exception>
    /// <exception cref="InvalidDataException">A file is malformed; the message names it.</exception>
    public static ClipTokenizer FromFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Tokenizer folder '{folder}' does not exist.");
        var vocabularyPath = RequiredFile(folder, "vocab.json");
        var mergesPath = RequiredFile(folder, "merges.txt");
        var vocabulary = ReadVocabulary(vocabularyPath);
        var merges = ReadMerges(mergesPath);
        var padId = ReadPadId(folder, vocabulary) ?? vocabulary[EndOfText];
        return new ClipTokenizer(vocabulary, merges, padId, vocabularyPath);
    }

    /// <summary>The content ids of a prompt, without begin/end tokens and without truncation.</summary>
    public int[] Encode(string prompt) => [.. Tokenize(prompt).Select(IdOf)];

    /// <summary>The BPE token strings of a prompt (byte-level symbols, <c>&lt;/w&gt;</c> marking word ends).</summary>
    public string[] Tokenize(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var tokens = new List<string>();
        foreach (var word in ClipPreTokenizer.Split(ClipTextNormalizer.Normalize(prompt)))
        {
            if (word is StartOfText or EndOfText) tokens.Add(word);
            else tokens.AddRange(_bpe.Encode(BytePairEncoder.ToByteSymbols(word)));
        }
        return [.. tokens];
    }

    /// <summary>
    /// What a Stable Diffusion pipeline feeds its text encoder (<c>padding="max_length", truncation=True</c>):
    /// <c>[bos] + the first maxLength - 2 content ids + [eos]</c>, padded to <paramref name="maxLength"/> with
    /// <paramref name="padId"/> (default <see cref="PadId"/>).
    /// </summary>
    public ClipEncoding EncodeForModel(string prompt, int maxLength = ModelMaxLength, int? padId = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        var content = Encode(prompt);
        var kept = Math.Min(content.Length, maxLength - 2);
        var ids = new int[maxLength];
        ids[0] = BosId;
        Array.Copy(content, 0, ids, 1, kept);
        ids[kept + 1] = EosId;
        Array.Fill(ids, padId ?? PadId, kept + 2, maxLength - kept - 2);
        return new ClipEncoding(ids, kept + 2);
    }

    private int IdOf(string token) =>
        _vocabulary.TryGetValue(token, out var id)
            ? id
            : throw new InvalidDataException($"BPE token '{token}' is not in '{_vocabularyPath}': vocab.json and merges.txt do not belong together.");

    private static string RequiredFile(string folder, string name)
    {
        var path = Path.Combine(folder, name);
        if (File.Exists(path)) return path;
        var hint = File.Exists(Path.Combine(folder, "tokenizer", name)) ? " (a pipeline folder: pass its 'tokenizer' subfolder)" : "";
        throw new FileNotFoundException($"Tokenizer folder '{folder}' has no {name}{hint}.", path);
    }

    private static FrozenDictionary<string, int> ReadVocabulary(string path)
    {
        using var document = JsonFile.Parse(path);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"'{path}' must be a JSON object mapping tokens to ids, found {document.RootElement.ValueKind}.");
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        var tokensById = new Dictionary<int, string>();
        foreach (var entry in document.RootElement.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id) || id < 0)
                throw new InvalidDataException($"'{path}': the id of token '{entry.Name}' must be a non-negative integer, found {entry.Value.GetRawText()}.");
            if (!vocabulary.TryAdd(entry.Name, id))
                throw new InvalidDataException($"'{path}': token '{entry.Name}' appears twice.");
            if (!tokensById.TryAdd(id, entry.Name))
                throw new InvalidDataException($"'{path}': id {id} is used by both '{tokensById[id]}' and '{entry.Name}'.");
        }
        foreach (var special in new[] { StartOfText, EndOfText })
        {
            if (!vocabulary.ContainsKey(special)) throw new InvalidDataException($"'{path}' has no '{special}' token.");
        }
        return vocabulary.ToFrozenDictionary(StringComparer.Ordinal);
    }

    // Hugging Face's layout: an optional "#version: ..." header, then one "left right" merge per line in rank order.
    private static List<(string, string)> ReadMerges(string path)
    {
        var merges = new List<(string, string)>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new InvalidDataException($"'{path}' line {lineNumber}: expected 'left right', found '{line}'.");
            merges.Add((parts[0], parts[1]));
        }
        if (merges.Count == 0) throw new InvalidDataException($"'{path}' contains no merges.");
        return merges;
    }

    private static int? ReadPadId(string folder, FrozenDictionary<string, int> vocabulary)
    {
        foreach (var name in new[] { "special_tokens_map.json", "tokenizer_config.json" })
        {
            var path = Path.Combine(folder, name);
            if (!File.Exists(path)) continue;
            using var document = JsonFile.Parse(path);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("pad_token", out var pad)) continue;
            // A plain string, or an AddedToken object {"content": "!", ...}; null means "not set".
            var content = pad.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.String => pad.GetString(),
                JsonValueKind.Object when pad.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
                _ => throw new InvalidDataException($"'{path}': pad_token must be a string or an object with a 'content' string, found {pad.GetRawText()}."),
            };
            if (content is null) continue;
            return vocabulary.TryGetValue(content, out var id)
                ? id
                : throw new InvalidDataException($"'{path}': pad_token '{content}' is not in vocab.json.");
        }
        return null;
    }
}
