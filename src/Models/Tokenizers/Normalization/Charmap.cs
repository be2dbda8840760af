using System.Collections.Frozen;

namespace Peft.Typed.Models.Tokenizers.Normalization;

/// <summary>A single-byte encoding as Python's charmap codecs see it: byte b decodes to <see cref="Decode"/>[b], and encoding is the inverse.</summary>
internal sealed class Charmap
{
    private readonly FrozenDictionary<char, byte> _encode;

    public Charmap(string name, string table)
    {
        if (table.Length != 256) throw new ArgumentException($"Charmap '{name}' has {table.Length} entries, expected 256.", nameof(table));
        Name = name;
        Decode = table;
        _encode = Enumerable.Range(0, 256).ToFrozenDictionary(b => table[b], b => (byte)b);
    }

    public string Name { get; }

    public string Decode { get; }

    /// <summary>ftfy <c>chardata.possible_encoding</c>: every character of the text is one of the 256 this encoding can write.</summary>
    public bool CanEncode(string text)
    {
        foreach (var c in text)
        {
            if (!_encode.ContainsKey(c)) return false;
        }
        return true;
    }

    /// <summary><c>text.encode(name)</c>; call only when <see cref="CanEncode"/> is true.</summary>
    public byte[] Encode(string text)
    {
        var bytes = new byte[text.Length];
        for (var i = 0; i < text.Length; i++) bytes[i] = _encode[text[i]];
        return bytes;
    }
}
