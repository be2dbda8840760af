using System;
using System.Collections.Generic;

namespace Peft.Typed.Architecture.Targeting;

/// <summary>
/// The attention projection names of older diffusers releases (its <c>AttentionBlock</c>: <c>query</c>, <c>key</c>,
/// <c>value</c>, <c>proj_attn</c>) and what today's <c>Attention</c> calls them (<c>to_q</c>, <c>to_k</c>, <c>to_v</c>,
/// <c>to_out.0</c>). Old training scripts still list them (PEFT's lora_dreambooth: <c>["to_q", "to_v", "query", "value"]</c>),
/// where they silently match nothing. One table for the runtime (<see cref="UnmatchedTarget.RenamedTo"/>) and the analyzer.
/// </summary>
public static class LegacyAttentionNames
{
    /// <summary>Old name → current name, in the order diffusers' own conversion lists them.</summary>
    public static readonly IReadOnlyList<KeyValuePair<string, string>> Renames = new[]
    {
        new KeyValuePair<string, string>("query", "to_q"),
        new KeyValuePair<string, string>("key", "to_k"),
        new KeyValuePair<string, string>("value", "to_v"),
        new KeyValuePair<string, string>("proj_attn", "to_out.0"),
    };

    /// <summary>
    /// The entry with its old attention name replaced by the current one: <c>query</c> gives <c>to_q</c>,
    /// <c>mid_block.attentions.0.proj_attn</c> gives <c>mid_block.attentions.0.to_out.0</c>. Null when the entry's last
    /// segment is no old attention name.
    /// </summary>
    public static string? Rename(string entry)
    {
        if (entry is null) throw new ArgumentNullException(nameof(entry));
        int dot = entry.LastIndexOf('.');
        var last = entry.Substring(dot + 1);
        foreach (var rename in Renames)
        {
            if (rename.Key == last) return entry.Substring(0, dot + 1) + rename.Value;
        }
        return null;
    }

    /// <summary>
    /// Why <paramref name="entry"/> matches nothing, given its current name <paramref name="renamedTo"/> (from <see cref="Rename"/>):
    /// "diffusers renamed the attention projection 'query' to 'to_q'" (plus "; write '…'" for a longer entry).
    /// </summary>
    public static string Explain(string entry, string renamedTo)
    {
        if (entry is null) throw new ArgumentNullException(nameof(entry));
        if (renamedTo is null) throw new ArgumentNullException(nameof(renamedTo));
        var old = entry.Substring(entry.LastIndexOf('.') + 1);
        var current = Rename(old) ?? renamedTo;
        var text = $"diffusers renamed the attention projection '{old}' to '{current}'";
        return renamedTo == current ? text : $"{text}; write '{renamedTo}'";
    }
}
