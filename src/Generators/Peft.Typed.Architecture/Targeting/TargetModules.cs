using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace Peft.Typed.Architecture.Targeting;

/// <summary>
/// The value of PEFT's <c>target_modules</c> / <c>exclude_modules</c>: a list of names, a regex, or "all-linear".
/// Matching follows PEFT 0.20.0 <c>check_target_module_exists</c>; names are relative to the adapted model
/// (no <c>base_model.model.</c> prefix).
/// </summary>
public sealed class TargetModules : IEquatable<TargetModules>
{
    /// <summary>The shorthand PEFT accepts in any letter case.</summary>
    public const string AllLinearShorthand = "all-linear";

    private readonly Regex? _regex;

    private TargetModules(TargetModulesKind kind, IReadOnlyList<string> names, string? pattern, ModuleCatalog? model = null)
    {
        Kind = kind;
        Names = names;
        Pattern = pattern;
        Model = model;
        if (kind == TargetModulesKind.Regex) _regex = FullMatchRegex(pattern!);
    }

    public TargetModulesKind Kind { get; }

    /// <summary>The list entries (distinct, in the given order); empty unless <see cref="Kind"/> is <see cref="TargetModulesKind.Names"/>.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The regex (or the all-linear shorthand as written); null for a list.</summary>
    public string? Pattern { get; }

    /// <summary>
    /// The model a typed <see cref="TargetSet"/> selected these modules in (<c>Sd15Unet.Targets.ToQ</c>), so a consumer can
    /// check it applies them to that architecture; null for names or a regex given as text. Not part of equality.
    /// </summary>
    public ModuleCatalog? Model { get; }

    /// <summary>The same targets, recorded as selected in <paramref name="model"/>.</summary>
    internal TargetModules SelectedIn(ModuleCatalog model) => new TargetModules(Kind, Names, Pattern, model);

    /// <summary>A list of module names or name suffixes (<c>["to_q", "attn1.to_v"]</c>).</summary>
    public static TargetModules FromNames(IEnumerable<string> names)
    {
        var list = new List<string>();
        foreach (var name in names ?? throw new ArgumentNullException(nameof(names)))
        {
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("A target module name cannot be empty.", nameof(names));
            if (!list.Contains(name)) list.Add(name);
        }
        return new TargetModules(TargetModulesKind.Names, list, null);
    }

    public static TargetModules FromNames(params string[] names) => FromNames((IEnumerable<string>)names);

    /// <summary>A regex that must match a whole module name, or "all-linear" (any case).</summary>
    public static TargetModules FromPattern(string pattern)
    {
        if (pattern is null) throw new ArgumentNullException(nameof(pattern));
        if (string.Equals(pattern, AllLinearShorthand, StringComparison.OrdinalIgnoreCase))
            return new TargetModules(TargetModulesKind.AllLinear, Array.Empty<string>(), pattern);
        return FromRegex(pattern);
    }

    /// <summary>A regex that must match a whole module name; "all-linear" has no special meaning here (<c>exclude_modules</c>).</summary>
    public static TargetModules FromRegex(string pattern) =>
        new TargetModules(TargetModulesKind.Regex, Array.Empty<string>(), pattern ?? throw new ArgumentNullException(nameof(pattern)));

    /// <summary>Every Linear module ("all-linear").</summary>
    public static TargetModules AllLinear { get; } = new TargetModules(TargetModulesKind.AllLinear, Array.Empty<string>(), AllLinearShorthand);

    /// <summary>
    /// True when <paramref name="moduleName"/> is selected by name alone: equal to a list entry or ending with
    /// "." + entry, or fully matched by the regex. "all-linear" selects by kind, see <see cref="Matches(string, string)"/>.
    /// </summary>
    public bool MatchesName(string moduleName) => Kind switch
    {
        TargetModulesKind.Names => Names.Any(entry => NameMatchesEntry(moduleName, entry)),
        TargetModulesKind.Regex => _regex!.IsMatch(moduleName),
        _ => false,
    };

    /// <summary>True when the module named <paramref name="moduleName"/> of class <paramref name="moduleKind"/> (<c>Linear</c>, <c>Conv2d</c>) is selected.</summary>
    public bool Matches(string moduleName, string moduleKind) =>
        Kind == TargetModulesKind.AllLinear ? moduleKind == "Linear" : MatchesName(moduleName);

    /// <summary>PEFT's list rule: the whole name, or a suffix that starts after a dot.</summary>
    public static bool NameMatchesEntry(string moduleName, string entry) =>
        moduleName == entry
        || (moduleName.Length > entry.Length && moduleName[moduleName.Length - entry.Length - 1] == '.' && moduleName.EndsWith(entry, StringComparison.Ordinal));

    /// <summary>Python <c>re.fullmatch(pattern, s)</c> as a .NET regex; a malformed pattern throws naming it.</summary>
    public static Regex FullMatchRegex(string pattern)
    {
        try
        {
            return new Regex(@"\A(?:" + pattern + @")\z", RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"'{pattern}' is not a valid regular expression: {e.Message}", e);
        }
    }

    public bool Equals(TargetModules? other) =>
        other is not null && Kind == other.Kind && Pattern == other.Pattern
        && new HashSet<string>(Names).SetEquals(other.Names);

    public override bool Equals(object? obj) => Equals(obj as TargetModules);

    public override int GetHashCode() => Kind == TargetModulesKind.Names ? Names.Count : (Pattern ?? "").GetHashCode();

    public override string ToString() => Kind == TargetModulesKind.Names ? "[" + string.Join(", ", Names.Select(n => "'" + n + "'")) + "]" : "'" + Pattern + "'";
}
