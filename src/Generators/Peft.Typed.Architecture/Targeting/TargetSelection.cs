using System.Collections.Generic;

namespace Peft.Typed.Architecture.Targeting;

/// <summary>What a config's targeting selects from a module list; built by <see cref="TargetSelector.Select"/>.</summary>
public sealed class TargetSelection
{
    public TargetSelection(IReadOnlyList<ModuleEntry> targeted, IReadOnlyList<string> excluded,
        IReadOnlyList<ModuleEntry> unsupported, IReadOnlyList<UnmatchedTarget> unmatched)
    {
        Targeted = targeted;
        Excluded = excluded;
        Unsupported = unsupported;
        Unmatched = unmatched;
    }

    /// <summary>Modules to wrap with an adapter, in module order.</summary>
    public IReadOnlyList<ModuleEntry> Targeted { get; }

    /// <summary>Modules matched by <c>target_modules</c> but removed by <c>exclude_modules</c> or <c>modules_to_save</c>.</summary>
    public IReadOnlyList<string> Excluded { get; }

    /// <summary>Matched modules whose class the adapter cannot wrap (PEFT raises for these).</summary>
    public IReadOnlyList<ModuleEntry> Unsupported { get; }

    /// <summary><c>target_modules</c> list entries that name no module (typos), with suggestions.</summary>
    public IReadOnlyList<UnmatchedTarget> Unmatched { get; }
}
