using System.Collections.Generic;
using System.Text.RegularExpressions;

namespace Peft.Typed.Architecture.Targeting;

/// <summary>
/// Resolves PEFT's <c>rank_pattern</c> / <c>alpha_pattern</c> keys (PEFT 0.20.0 <c>get_pattern_key</c>): the first key
/// <c>p</c>, in file order, for which <c>re.match(r"(.*\.)?(p)$", name)</c> succeeds. Keys are regexes, so the dot
/// in <c>self_attn.v_proj</c> matches any character.
/// </summary>
public static class PatternKeys
{
    /// <summary>The first key of <paramref name="keys"/> that matches <paramref name="moduleName"/>, or null.</summary>
    public static string? Resolve(IEnumerable<string> keys, string moduleName)
    {
        foreach (var key in keys)
        {
            if (Matches(key, moduleName)) return key;
        }
        return null;
    }

    /// <summary>True when <c>re.match(r"(.*\.)?(key)$", moduleName)</c> matches.</summary>
    public static bool Matches(string key, string moduleName) =>
        Regex.IsMatch(moduleName, @"\A(.*\.)?(" + key + @")$", RegexOptions.CultureInvariant);

    /// <summary>The value of the first matching key, else <paramref name="fallback"/>.</summary>
    public static T ValueFor<T>(IEnumerable<KeyValuePair<string, T>> pattern, string moduleName, T fallback)
    {
        foreach (var entry in pattern)
        {
            if (Matches(entry.Key, moduleName)) return entry.Value;
        }
        return fallback;
    }
}
