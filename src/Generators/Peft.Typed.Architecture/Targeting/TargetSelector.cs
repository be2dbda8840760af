using System;
using System.Collections.Generic;
using System.Linq;

namespace Peft.Typed.Architecture.Targeting;

/// <summary>
/// Applies PEFT 0.20.0's targeting rules to a list of modules. Shared by the runtime (which wraps the selected
/// modules) and the source generator (which checks selectors at compile time), so both agree on every name.
/// </summary>
public static class TargetSelector
{
    /// <summary>
    /// Selects the modules an adapter wraps. Order of checks as in PEFT's <c>check_target_module_exists</c>:
    /// <c>exclude_modules</c>, then modules inside a <c>modules_to_save</c> entry, then <c>target_modules</c>.
    /// </summary>
    /// <param name="modules">Every module of the model, in registration order; the root ("") is skipped.</param>
    /// <param name="targets">The config's <c>target_modules</c>.</param>
    /// <param name="exclude">The config's <c>exclude_modules</c>, or null.</param>
    /// <param name="modulesToSave">The config's <c>modules_to_save</c>, or null.</param>
    /// <param name="supportedKinds">Module classes the adapter can wrap, e.g. <c>Linear</c> and <c>Conv2d</c>.</param>
    public static TargetSelection Select(IReadOnlyList<ModuleEntry> modules, TargetModules targets, TargetModules? exclude,
        IReadOnlyList<string>? modulesToSave, IReadOnlyCollection<string> supportedKinds)
    {
        if (modules is null) throw new ArgumentNullException(nameof(modules));
        if (targets is null) throw new ArgumentNullException(nameof(targets));
        var targeted = new List<ModuleEntry>();
        var excluded = new List<string>();
        var unsupported = new List<ModuleEntry>();
        foreach (var module in modules)
        {
            if (module.Name.Length == 0) continue;
            if (exclude is not null && exclude.Matches(module.Name, module.Kind)
                || modulesToSave is { Count: > 0 } && ModulesToSaveMatcher.ShieldsFromAdapters(modulesToSave, module.Name))
            {
                if (targets.Matches(module.Name, module.Kind)) excluded.Add(module.Name);
                continue;
            }
            if (!targets.Matches(module.Name, module.Kind)) continue;
            if (supportedKinds.Contains(module.Kind)) targeted.Add(module);
            else unsupported.Add(module);
        }
        return new TargetSelection(targeted, excluded, unsupported, FindUnmatched(modules, targets, supportedKinds));
    }

    /// <summary>
    /// The list entries of <paramref name="targets"/> that name no module at all, each with the closest name a user can
    /// write for an adaptable module (<see cref="ClosestName.Suffixes"/>: never a list index), or with its current name
    /// when it is an old diffusers attention name this model has under the new name (<see cref="LegacyAttentionNames"/>).
    /// Empty for a regex or "all-linear".
    /// </summary>
    public static IReadOnlyList<UnmatchedTarget> FindUnmatched(IReadOnlyList<ModuleEntry> modules, TargetModules targets,
        IReadOnlyCollection<string> supportedKinds)
    {
        if (targets.Kind != TargetModulesKind.Names) return Array.Empty<UnmatchedTarget>();
        var unmatched = new List<UnmatchedTarget>();
        List<string>? candidates = null;
        foreach (var entry in targets.Names)
        {
            if (MatchesAny(modules, entry)) continue;
            var renamed = LegacyAttentionNames.Rename(entry);
            if (renamed is not null && MatchesAny(modules, renamed))
            {
                unmatched.Add(new UnmatchedTarget(entry, renamed, renamed));
                continue;
            }
            candidates ??= modules
                .Where(m => m.Name.Length > 0 && supportedKinds.Contains(m.Kind))
                .SelectMany(m => ClosestName.Suffixes(m.Name))
                .Distinct(StringComparer.Ordinal)
                .ToList();
            unmatched.Add(new UnmatchedTarget(entry, ClosestName.Find(entry, candidates)));
        }
        return unmatched;
    }

    private static bool MatchesAny(IReadOnlyList<ModuleEntry> modules, string entry) =>
        modules.Any(m => m.Name.Length > 0 && TargetModules.NameMatchesEntry(m.Name, entry));
}
