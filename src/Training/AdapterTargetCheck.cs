using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters;
using static TorchSharp.torch;

namespace Peft.Typed.Training;

/// <summary>
/// Checks an adapter config's <c>target_modules</c> and <c>exclude_modules</c> against the model it is about to wrap,
/// with the analyzer's rules and wording (docs/diagnostics.md): an entry naming no module (PT0001), a regex matching
/// none (PT0002), a selection the adapter cannot wrap (PT0003), an empty selection (PT0005) are errors; an attention name
/// diffusers has renamed is a warning. Typed targets must come from the architecture being trained.
/// </summary>
internal static class AdapterTargetCheck
{
    /// <summary>Throws <see cref="DreamBoothOptionException"/> naming <c>--{prefix}_target_modules</c> (or exclude); returns the warnings.</summary>
    /// <param name="modelName">The model in messages ("the UNet").</param>
    /// <param name="prefix">The command line's option prefix: <c>unet</c> or <c>te</c>.</param>
    /// <param name="typedHint">Appended to the error for typed targets of another architecture.</param>
    public static IReadOnlyList<string> Check(AdapterConfig config, nn.Module model, string modelName, string prefix, string? typedHint = null)
    {
        var targetsOption = prefix + "_target_modules";
        var targets = config.TargetModules ?? throw new DreamBoothOptionException(targetsOption, $"--{targetsOption}: the {modelName} adapter has no target modules.");
        var modules = PeftModel.ListModules(model);
        var catalog = new ModuleCatalog(targets.Model?.ModelName ?? modelName, modules);
        CheckTypedSource(targets, catalog, modelName, targetsOption, typedHint);

        var warnings = new List<string>();
        var errors = new List<string>();
        var adapter = TargetMessages.AdapterName(config.GetType().Name);
        CheckEntries(targets, catalog, adapter, errors, warnings);
        if (errors.Count == 0)
        {
            var selection = config.SelectTargets(modules);
            if (selection.Targeted.Count == 0)
                errors.Add(TargetMessages.EmptySet(catalog.ModelName, selection.Excluded.Count > 0 ? ": every targeted module is excluded" : ""));
        }
        Throw(targetsOption, errors);

        if (config.ExcludeModules is { } exclude)
        {
            var excludeErrors = new List<string>();
            CheckEntries(exclude, catalog, adapter: null, excludeErrors, warnings);
            Throw(prefix + "_exclude_modules", excludeErrors);
        }
        return warnings.Select(w => $"--{targetsOption}: {w}.").ToList();
    }

    /// <summary>Each list entry on its own (as the analyzer checks each literal), or the regex as a whole.</summary>
    private static void CheckEntries(TargetModules targets, ModuleCatalog catalog, string? adapter, List<string> errors, List<string> warnings)
    {
        if (targets.Kind == TargetModulesKind.Names)
        {
            var dead = new List<UnmatchedTarget>();
            foreach (var entry in targets.Names)
            {
                var set = catalog.Select(TargetModules.FromNames(entry));
                if (set.IsEmpty)
                {
                    dead.AddRange(set.Unmatched);
                    continue;
                }
                ReportUnwrappable(set, entry, catalog, adapter, errors);
            }
            bool anyAlive = dead.Count < targets.Names.Count;
            foreach (var unmatched in dead)
                (unmatched.IsRenamed && anyAlive ? warnings : errors).Add(TargetMessages.Unmatched(unmatched, catalog.ModelName));
            return;
        }
        var selected = catalog.Select(targets);
        if (selected.IsEmpty)
        {
            errors.Add(targets.Kind == TargetModulesKind.Regex ? TargetMessages.RegexMatchesNothing(targets.Pattern!, catalog.ModelName) : TargetMessages.EmptySet(catalog.ModelName, ""));
            return;
        }
        ReportUnwrappable(selected, targets.Pattern!, catalog, adapter, errors);
    }

    private static void ReportUnwrappable(TargetSet set, string entry, ModuleCatalog catalog, string? adapter, List<string> errors)
    {
        if (adapter is null || TargetMessages.UnwrappableModules(set) is not { } modules) return;
        errors.Add(TargetMessages.Unwrappable(entry, modules, catalog.ModelName, adapter));
    }

    /// <summary>Typed targets (<c>DefaultUnet.Targets.ToQ</c>) carry the catalog of their class: it must list the loaded model's modules.</summary>
    private static void CheckTypedSource(TargetModules targets, ModuleCatalog loaded, string modelName, string option, string? hint)
    {
        if (targets.Model is not { } typed) return;
        var expected = typed.Modules.Where(m => m.Name.Length > 0).ToList();
        var actual = loaded.Modules.Where(m => m.Name.Length > 0).ToList();
        int i = 0;
        while (i < expected.Count && i < actual.Count && expected[i].Name == actual[i].Name && expected[i].Kind == actual[i].Kind) i++;
        if (i == expected.Count && i == actual.Count) return;
        var difference = i < expected.Count && i < actual.Count
            ? (expected[i].Name == actual[i].Name
                ? $"'{actual[i].Name}' is a {actual[i].Kind}, in {typed.ModelName} a {expected[i].Kind}"
                : $"it has '{actual[i].Name}' where {typed.ModelName} has '{expected[i].Name}'")
            : i < expected.Count ? $"it lacks '{expected[i].Name}'" : $"it has '{actual[i].Name}' beyond {typed.ModelName}'s modules";
        throw new DreamBoothOptionException(option,
            $"--{option}: the targets were selected in {typed.ModelName}, but {modelName} being trained is another architecture ({difference}); {hint ?? "generate the typed class from this model's config.json."}");
    }

    private static void Throw(string option, List<string> errors)
    {
        if (errors.Count > 0) throw new DreamBoothOptionException(option, $"--{option}: {string.Join(" ", errors.Select(e => e.EndsWith('?') ? e : e + "."))}");
    }
}
