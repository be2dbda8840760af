using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace Peft.Typed.Architecture.Targeting;

/// <summary>PEFT 0.20.0's two rules for <c>modules_to_save</c> entries.</summary>
public static class ModulesToSaveMatcher
{
    /// <summary>
    /// The module is wrapped for full training (<c>_set_trainable</c>): its name ends with an entry, with no dot
    /// required (PEFT's plain <c>key.endswith(entry)</c>).
    /// </summary>
    public static bool IsSaved(IEnumerable<string> modulesToSave, string moduleName) =>
        modulesToSave.Any(entry => moduleName.EndsWith(entry, StringComparison.Ordinal));

    /// <summary>
    /// The module lies inside a module to save, so adapters never target it:
    /// <c>re.match(rf"(^|.*\.){m}($|\..*)", name)</c>.
    /// </summary>
    public static bool ShieldsFromAdapters(IEnumerable<string> modulesToSave, string moduleName) =>
        modulesToSave.Any(entry => Regex.IsMatch(moduleName, @"\A(^|.*\.)" + entry + @"($|\..*)", RegexOptions.CultureInvariant));
}
