namespace Peft.Typed.Architecture.Targeting;

/// <summary>How PEFT's <c>target_modules</c> (or <c>exclude_modules</c>) was written in the config.</summary>
public enum TargetModulesKind
{
    /// <summary>A JSON list: a module matches when its name equals an entry or ends with "." + entry.</summary>
    Names,

    /// <summary>A JSON string: a module matches when the regex matches its whole name (Python <c>re.fullmatch</c>).</summary>
    Regex,

    /// <summary>The string "all-linear" (any case): every Linear module.</summary>
    AllLinear,
}
