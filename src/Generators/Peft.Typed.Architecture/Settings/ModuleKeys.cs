using System;
using System.Collections.Generic;
using System.Linq;
using Peft.Typed.Architecture.Targeting;

namespace Peft.Typed.Architecture.Settings;

/// <summary>
/// The config fields whose entries name modules besides <c>target_modules</c>: <c>rank_pattern</c>/<c>alpha_pattern</c>
/// keys (PEFT's <c>re.match(r"(.*\.)?(key)$", name)</c>), <c>exclude_modules</c> entries (as target entries) and
/// <c>modules_to_save</c> entries (<c>name.endswith(entry)</c>). PEFT ignores an entry that names no module; here it is
/// an error with the closest name (PT0018), at build time and when the config is applied. A pattern key that can never
/// win because earlier keys match all its modules is a warning (PT0019). Shared wording, as <see cref="TargetMessages"/>.
/// </summary>
public static class ModuleKeys
{
    public const string RankPattern = "rank_pattern";
    public const string AlphaPattern = "alpha_pattern";
    public const string ExcludeModules = "exclude_modules";
    public const string ModulesToSave = "modules_to_save";

    /// <summary>True when the entry <paramref name="entry"/> of <paramref name="field"/> names module <paramref name="moduleName"/>.</summary>
    public static bool Matches(string field, string entry, string moduleName) => field switch
    {
        RankPattern or AlphaPattern => PatternKeys.Matches(entry, moduleName),
        ExcludeModules => TargetModules.NameMatchesEntry(moduleName, entry),
        ModulesToSave => moduleName.EndsWith(entry, StringComparison.Ordinal),
        _ => throw new ArgumentOutOfRangeException(nameof(field), field, null),
    };

    /// <summary>
    /// PT0018: "rank_pattern key 'to_qq' matches no module of Sd15Unet; did you mean 'to_q'?" for an entry that names no
    /// module of <paramref name="modules"/>; null when it names one, or when a pattern key is not a valid regex (reported
    /// as such elsewhere). The suggestion is a name of an adaptable module (any module for <c>modules_to_save</c>).
    /// </summary>
    public static string? Unmatched(string field, string entry, IReadOnlyList<ModuleEntry> modules, string model)
    {
        try
        {
            if (modules.Any(m => m.Name.Length > 0 && Matches(field, entry, m.Name))) return null;
        }
        catch (ArgumentException)
        {
            return null;
        }
        var candidates = modules
            .Where(m => m.Name.Length > 0 && (field == ModulesToSave || ModuleCatalog.IsAdaptableKind(m.Kind)))
            .SelectMany(m => ClosestName.Suffixes(m.Name))
            .Distinct(StringComparer.Ordinal);
        var suggestion = ClosestName.Find(entry, candidates);
        return $"{Describe(field)} '{entry}' matches no module of {model}{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")}";
    }

    /// <summary>PT0018 for a regex <c>exclude_modules</c>: "The exclude_modules regex 'x' matches no module of Sd15Unet"; null when it matches one.</summary>
    public static string? UnmatchedRegex(string field, string pattern, IReadOnlyList<ModuleEntry> modules, string model)
    {
        try
        {
            var regex = TargetModules.FullMatchRegex(pattern);
            return modules.Any(m => m.Name.Length > 0 && regex.IsMatch(m.Name)) ? null : $"The {field} regex '{pattern}' matches no module of {model}";
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// PT0019: "rank_pattern key 'resnets.0.conv1' never applies to Sd15Unet: the earlier key 'conv1' matches every module it
    /// matches, and the first matching key wins"; null when key <paramref name="index"/> decides the value of some module
    /// (or matches none: that is <see cref="Unmatched"/>).
    /// </summary>
    public static string? Shadowed(string field, IReadOnlyList<string> keys, int index, IReadOnlyList<ModuleEntry> modules, string model)
    {
        try
        {
            var own = modules.Where(m => m.Name.Length > 0 && PatternKeys.Matches(keys[index], m.Name)).Select(m => m.Name).ToList();
            if (own.Count == 0) return null;
            var earlier = new List<string>();
            foreach (var name in own)
            {
                var winner = PatternKeys.Resolve(keys.Take(index), name);
                if (winner is null) return null;
                if (!earlier.Contains(winner)) earlier.Add(winner);
            }
            var which = earlier.Count == 1 ? $"the earlier key '{earlier[0]}' matches" : $"the earlier keys {string.Join(", ", earlier.Select(k => $"'{k}'"))} match";
            return $"{field} key '{keys[index]}' never applies to {model}: {which} every module it matches, and the first matching key wins";
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// Every PT0018 problem of a config applied to <paramref name="modules"/>, in field order: what the run-time check
    /// reports when a config is applied to a model.
    /// </summary>
    public static IReadOnlyList<string> Problems(IReadOnlyList<ModuleEntry> modules, string model, IEnumerable<string> rankKeys,
        IEnumerable<string> alphaKeys, TargetModules? exclude, IEnumerable<string>? modulesToSave)
    {
        var problems = new List<string>();
        foreach (var key in rankKeys) Add(Unmatched(RankPattern, key, modules, model));
        foreach (var key in alphaKeys) Add(Unmatched(AlphaPattern, key, modules, model));
        if (exclude is { Kind: TargetModulesKind.Names })
        {
            foreach (var entry in exclude.Names) Add(Unmatched(ExcludeModules, entry, modules, model));
        }
        else if (exclude is { Kind: TargetModulesKind.Regex, Pattern: { } pattern })
        {
            Add(UnmatchedRegex(ExcludeModules, pattern, modules, model));
        }
        foreach (var entry in modulesToSave ?? Array.Empty<string>()) Add(Unmatched(ModulesToSave, entry, modules, model));
        return problems;

        void Add(string? problem)
        {
            if (problem is not null) problems.Add(problem);
        }
    }

    private static string Describe(string field) => field is RankPattern or AlphaPattern ? field + " key" : field + " entry";
}
