using System.Collections.Generic;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Diagnostics;
using Peft.Typed.Architecture.Validation;

namespace Peft.Typed.Architecture.Reading;

/// <summary>
/// Collects the errors found while checking a config and locates each at the option it names, when the config
/// was read from a file. One collector serves both parsing (errors become diagnostics) and building (errors throw).
/// </summary>
internal sealed class ConfigProblems
{
    private readonly ConfigSource? _source;

    public ConfigProblems(ArchitectureConfig config) => _source = config.Source;

    public List<ArchitectureDiagnostic> Diagnostics { get; } = new List<ArchitectureDiagnostic>();

    public bool HasErrors => Diagnostics.Count > 0;

    public void Add(ArchitectureDiagnosticCode code, string key, string message) =>
        Diagnostics.Add(Create(code, message, _source?.SpanOf(key) ?? default));

    public void AddAtItem(ArchitectureDiagnosticCode code, string key, int index, string message) =>
        Diagnostics.Add(Create(code, message, _source?.SpanOfItem(key, index) ?? default));

    /// <summary>An option that must be at least <paramref name="minimum"/>.</summary>
    public void AtLeast(string key, int value, int minimum)
    {
        if (value < minimum) Add(ArchitectureDiagnosticCode.InvalidOptionValue, key, $"'{key}' must be at least {minimum}; found {value}.");
    }

    /// <summary>Every item of a per-block option must be at least <paramref name="minimum"/>.</summary>
    public void AtLeast(string key, System.Collections.Generic.IReadOnlyList<int> values, int minimum)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (values[i] < minimum) AddAtItem(ArchitectureDiagnosticCode.InvalidOptionValue, key, i, $"'{key}[{i}]' must be at least {minimum}; found {values[i]}.");
        }
    }

    public void AtLeast(string key, ScalarOrList<int> value, int minimum)
    {
        if (value.IsList) AtLeast(key, value.Values, minimum);
        else AtLeast(key, value.ScalarValue, minimum);
    }

    /// <summary>A per-block list must have one entry per down block.</summary>
    public void SameLength(string key, int count, string otherKey, int otherCount)
    {
        if (count != otherCount)
        {
            Add(ArchitectureDiagnosticCode.ListLengthMismatch, key,
                $"'{key}' has {count} entries but '{otherKey}' has {otherCount}; they must have the same length.");
        }
    }

    /// <summary>An option this library implements for one value only (the diffusers default).</summary>
    public void Only(string key, object? value, object? supported)
    {
        if (!Equals(value, supported))
        {
            Add(ArchitectureDiagnosticCode.UnsupportedOptionValue, key,
                $"Unsupported {key} {OptionText.Of(value)}; only {OptionText.Of(supported)} is supported.");
        }
    }

    /// <summary>An option whose value must be one of <paramref name="supported"/>.</summary>
    public void OneOf(string key, string? value, string[] supported, ArchitectureDiagnosticCode code = ArchitectureDiagnosticCode.UnsupportedOptionValue)
    {
        if (value is null || !SupportedValues.Contains(supported, value))
        {
            Add(code, key, $"Unsupported {key} {OptionText.Of(value)}; supported: {OptionText.List(supported)}.");
        }
    }

    /// <summary>Every item of a list option must be one of <paramref name="supported"/>.</summary>
    public void EachOneOf(string key, System.Collections.Generic.IReadOnlyList<string> values, System.Func<string, string> normalize, string[] supported, ArchitectureDiagnosticCode code)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (!SupportedValues.Contains(supported, normalize(values[i])))
            {
                AddAtItem(code, key, i, $"Unsupported {key}[{i}] {OptionText.Of(values[i])}; supported: {OptionText.List(supported)}.");
            }
        }
    }

    /// <summary>GroupNorm (and attention heads) need channel counts that split evenly.</summary>
    public void DivisibleBy(string key, System.Collections.Generic.IReadOnlyList<int> values, int divisor, string divisorKey, string why)
    {
        if (divisor < 1) return;
        for (var i = 0; i < values.Count; i++)
        {
            if (values[i] % divisor != 0)
            {
                AddAtItem(ArchitectureDiagnosticCode.InvalidOptionValue, key, i,
                    $"'{key}[{i}]' {values[i]} is not divisible by {divisorKey} {divisor} ({why}).");
            }
        }
    }

    /// <summary>Throws <see cref="ArchitectureException"/> with every error found.</summary>
    public void ThrowIfAny()
    {
        if (HasErrors) throw new ArchitectureException(Diagnostics);
    }

    private ArchitectureDiagnostic Create(ArchitectureDiagnosticCode code, string message, SourceSpan span) =>
        new ArchitectureDiagnostic(code, ArchitectureSeverity.Error, message, _source?.FilePath ?? "", span);
}
