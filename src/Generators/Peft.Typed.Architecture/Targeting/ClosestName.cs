using System;
using System.Collections.Generic;

namespace Peft.Typed.Architecture.Targeting;

/// <summary>Suggests the candidate nearest to a misspelt name by Levenshtein edit distance.</summary>
public static class ClosestName
{
    /// <summary>
    /// The candidate with the smallest edit distance to <paramref name="name"/>; ties go to the shorter candidate,
    /// then to the ordinal order. Null when there are no candidates.
    /// </summary>
    public static string? Find(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            // The distance is at least the length difference: such a candidate can neither win nor tie.
            if (best is not null && Math.Abs(candidate.Length - name.Length) > bestDistance) continue;
            int distance = EditDistance(name, candidate);
            if (best is null || distance < bestDistance
                || (distance == bestDistance && (candidate.Length < best.Length
                    || (candidate.Length == best.Length && string.CompareOrdinal(candidate, best) < 0))))
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best;
    }

    /// <summary>Levenshtein distance: insertions, deletions and substitutions each cost 1.</summary>
    public static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    /// <summary>
    /// The dot-suffixes of a module name a user can write as a target, shortest first: <c>a.b.c</c> gives <c>c</c>,
    /// <c>b.c</c>, <c>a.b.c</c>. A suffix that starts with a list index (<c>0</c>, <c>0.proj</c>) is left out: alone it
    /// is a bare path segment, and PEFT users name the list too (<c>to_out.0</c>, <c>net.0.proj</c>).
    /// </summary>
    public static IEnumerable<string> Suffixes(string moduleName)
    {
        for (int i = moduleName.Length - 1; i >= 0; i--)
        {
            if (moduleName[i] != '.') continue;
            var suffix = moduleName.Substring(i + 1);
            if (!StartsWithIndex(suffix)) yield return suffix;
        }
        if (!StartsWithIndex(moduleName)) yield return moduleName;
    }

    private static bool StartsWithIndex(string suffix)
    {
        int dot = suffix.IndexOf('.');
        return ModuleCatalog.IsIndex(dot < 0 ? suffix : suffix.Substring(0, dot));
    }
}
