using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Peft.Typed.Architecture.Diagnostics;
using Peft.Typed.Architecture.Json;
using Peft.Typed.Architecture.Settings;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Generators.Diagnostics;

namespace Peft.Typed.Generators.Analysis;

/// <summary>One finding in an adapter_config.json: the rule, where in the file, and the message arguments.</summary>
internal sealed record AdapterFileFinding(DiagnosticDescriptor Descriptor, SourceSpan Span, IReadOnlyList<string> Arguments)
{
    public AdapterFileFinding(DiagnosticDescriptor descriptor, SourceSpan span, string message)
        : this(descriptor, span, new[] { message })
    {
    }

    /// <summary>The message as reported.</summary>
    public string Message => string.Format(System.Globalization.CultureInfo.InvariantCulture, Descriptor.MessageFormat.ToString(System.Globalization.CultureInfo.InvariantCulture), Arguments.ToArray<object>());
}

/// <summary>
/// Checks an adapter_config.json shipped with an app (<c>&lt;AdditionalFiles ... PeftAdapterFor="Sd15Unet" /&gt;</c>)
/// against the typed model it is for, with the rules and wording of the C# checks: the file parses and names a
/// <c>peft_type</c> this library reads (PT0020), every field is PEFT 0.20.0's (PT0021), values are in range
/// (PT0014-PT0017), <c>target_modules</c> as a list or regex selects modules the kind can wrap (PT0001-PT0005, PT0011,
/// PT0013), pattern keys, exclusions and modules to save name modules (PT0018, PT0019). Each finding points at the JSON
/// value or name it is about.
/// </summary>
internal static class AdapterFileChecks
{
    public static IReadOnlyList<AdapterFileFinding> Check(string text, string path, AnalyzedModel model)
    {
        var findings = new List<AdapterFileFinding>();
        JsonValue document;
        try
        {
            document = JsonReader.Parse(text, path);
        }
        catch (ArchitectureException e)
        {
            findings.Add(new AdapterFileFinding(DiagnosticDescriptors.InvalidAdapterFile, e.First.Span, e.First.Message));
            return findings;
        }
        if (document is not JsonObject root)
        {
            findings.Add(new AdapterFileFinding(DiagnosticDescriptors.InvalidAdapterFile, document.Span, "The adapter config must be a JSON object."));
            return findings;
        }
        var peftType = root.Find("peft_type");
        if (peftType?.Value is not JsonString { Value: var type } typeValue || !AdapterFileFields.PeftTypes.Contains(type))
        {
            var span = peftType?.Value.Span ?? root.Span;
            var shown = peftType is null ? "null" : peftType.Value is JsonString s ? $"\"{s.Value}\"" : peftType.Value.Describe();
            findings.Add(new AdapterFileFinding(DiagnosticDescriptors.InvalidAdapterFile, span, AdapterFileFields.UnsupportedPeftType(shown, AdapterFileFields.PeftTypes)));
            return findings;
        }
        new FileChecker(findings, root, type, model).Run();
        return findings;
    }

    private sealed class FileChecker
    {
        private readonly List<AdapterFileFinding> _findings;
        private readonly JsonObject _root;
        private readonly string _type;
        private readonly AnalyzedModel _model;

        public FileChecker(List<AdapterFileFinding> findings, JsonObject root, string type, AnalyzedModel model)
        {
            _findings = findings;
            _root = root;
            _type = type;
            _model = model;
        }

        private IReadOnlyList<ModuleEntry> Modules => _model.Catalog.Modules;

        private string ModelName => _model.Catalog.ModelName;

        private string Adapter => TargetMessages.AdapterName(AdapterFileFields.ConfigClass(_type));

        public void Run()
        {
            foreach (var property in _root.Properties)
            {
                if (!AdapterFileFields.IsKnown(_type, property.Name))
                {
                    Add(DiagnosticDescriptors.UnknownAdapterField, property.NameSpan, AdapterFileFields.Unknown(_type, property.Name));
                    continue;
                }
                var value = property.Value;
                switch (property.Name)
                {
                    case "r":
                        if (Integer(property) is { } r) Add(DiagnosticDescriptors.RankNotPositive, value.Span, AdapterSettings.Rank(r));
                        break;
                    case "lora_alpha" or "alpha":
                        if (Number(property) is { } alpha) Add(DiagnosticDescriptors.AlphaNotPositive, value.Span, AdapterSettings.Alpha(property.Name, alpha));
                        break;
                    case "lora_dropout" or "rank_dropout" or "module_dropout":
                        if (Number(property) is { } p) Add(DiagnosticDescriptors.DropoutOutOfRange, value.Span, AdapterSettings.Dropout(property.Name, p));
                        break;
                    case "decompose_factor":
                        if (Integer(property) is { } factor) Add(DiagnosticDescriptors.InvalidDecomposeFactor, value.Span, AdapterSettings.DecomposeFactor(factor));
                        break;
                    case "rank_pattern" or "alpha_pattern":
                        Pattern(property);
                        break;
                    case "modules_to_save":
                        foreach (var (entry, span) in Strings(property)) Add(DiagnosticDescriptors.EntryMatchesNoModule, span, ModuleKeys.Unmatched(ModuleKeys.ModulesToSave, entry, Modules, ModelName));
                        break;
                    case "exclude_modules":
                        if (value is JsonString regex) Add(DiagnosticDescriptors.EntryMatchesNoModule, value.Span, ModuleKeys.UnmatchedRegex(ModuleKeys.ExcludeModules, regex.Value, Modules, ModelName));
                        else foreach (var (entry, span) in Strings(property)) Add(DiagnosticDescriptors.EntryMatchesNoModule, span, ModuleKeys.Unmatched(ModuleKeys.ExcludeModules, entry, Modules, ModelName));
                        break;
                }
            }
            var targets = Targets();
            if (targets is not null && _root.Find("use_effective_conv2d") is { Value: JsonBoolean { Value: true } effective }
                && !targets.IsEmpty && !_model.HasSpatialConvolution(targets))
            {
                var kinds = string.Join(", ", targets.GroupBy(m => m.Kind).Select(g => $"{g.Count()} {g.Key} module{(g.Count() == 1 ? "" : "s")}"));
                Add(DiagnosticDescriptors.OptionWithoutEffect, effective.Span, "use_effective_conv2d", ModelName, kinds);
            }
        }

        /// <summary>Checks <c>target_modules</c> as PT0001-PT0005/PT0011/PT0013 do in C#; returns the selected set when it is known.</summary>
        private TargetSet? Targets()
        {
            var property = _root.Find("target_modules");
            if (property is null || property.Value is JsonNull)
            {
                var start = new SourceSpan(_root.Span.Offset, 1, _root.Span.Line, _root.Span.Column, _root.Span.Line, _root.Span.Column + 1);
                Add(DiagnosticDescriptors.InvalidAdapterFile, property?.Value.Span ?? start, "target_modules is not set; give module names, a regex or \"all-linear\".");
                return null;
            }
            if (property.Value is JsonString { Value: var pattern } text)
            {
                if (string.Equals(pattern, TargetModules.AllLinearShorthand, StringComparison.OrdinalIgnoreCase)) return _model.Catalog.Select(TargetModules.FromPattern(pattern));
                try
                {
                    _ = new Regex(pattern, RegexOptions.CultureInvariant);
                }
                catch (ArgumentException e)
                {
                    Add(DiagnosticDescriptors.MalformedRegex, text.Span, pattern, e.Message);
                    return null;
                }
                var set = _model.Catalog.Select(TargetModules.FromPattern(pattern));
                if (set.IsEmpty) Add(DiagnosticDescriptors.RegexMatchesNothing, text.Span, TargetMessages.RegexMatchesNothing(pattern, ModelName));
                else Unwrappable(set, pattern, text.Span);
                return set;
            }
            var entries = Strings(property).ToList();
            if (property.Value is not JsonArray array) return null;
            var dead = new List<(UnmatchedTarget Entry, SourceSpan Span)>();
            bool anyMatch = false;
            foreach (var (entry, span) in entries)
            {
                var set = _model.Catalog.Select(TargetModules.FromNames(entry));
                if (set.IsEmpty)
                {
                    dead.Add((set.Unmatched.FirstOrDefault() ?? new UnmatchedTarget(entry, null), span));
                    continue;
                }
                anyMatch = true;
                Unwrappable(set, entry, span);
            }
            foreach (var (entry, span) in dead)
            {
                var descriptor = entry.IsRenamed && anyMatch ? DiagnosticDescriptors.RenamedAttentionName : DiagnosticDescriptors.UnknownTargetName;
                Add(descriptor, span, TargetMessages.Unmatched(entry, ModelName));
            }
            if (!anyMatch)
            {
                var detail = array.Items.Count == 0 ? ": the list is empty" : ": no entry of the list matches";
                Add(DiagnosticDescriptors.EmptyTargetSet, array.Span, TargetMessages.EmptySet(ModelName, detail));
                return null;
            }
            return _model.Catalog.Select(TargetModules.FromNames(entries.Select(e => e.Value)));
        }

        private void Unwrappable(TargetSet set, string entry, SourceSpan span)
        {
            if (TargetMessages.UnwrappableModules(set) is { } modules)
                Add(DiagnosticDescriptors.UnwrappableLayerKind, span, TargetMessages.Unwrappable(entry, modules, ModelName, Adapter));
        }

        private void Pattern(JsonProperty property)
        {
            if (property.Value is JsonNull) return;
            if (property.Value is not JsonObject pattern)
            {
                Add(DiagnosticDescriptors.InvalidAdapterFile, property.Value.Span, $"'{property.Name}' must be an object of key: value, found {property.Value.Describe()}.");
                return;
            }
            bool rank = property.Name == ModuleKeys.RankPattern;
            foreach (var entry in pattern.Properties)
            {
                Add(DiagnosticDescriptors.EntryMatchesNoModule, entry.NameSpan, ModuleKeys.Unmatched(property.Name, entry.Name, Modules, ModelName));
                if (entry.Value is not JsonNumber number || rank && !number.IsInteger)
                {
                    Add(DiagnosticDescriptors.InvalidAdapterFile, entry.Value.Span, $"Every value of '{property.Name}' must be {(rank ? "an integer" : "a number")}, found {entry.Value.Describe()}.");
                    continue;
                }
                var problem = rank
                    ? AdapterSettings.PatternRank(entry.Name, number.TryGetInt64(out var r) ? r : 0)
                    : AdapterSettings.PatternAlpha(entry.Name, number.ToDouble());
                Add(rank ? DiagnosticDescriptors.RankNotPositive : DiagnosticDescriptors.AlphaNotPositive, entry.Value.Span, problem);
            }
            var keys = pattern.Properties.Select(p => p.Name).ToList();
            for (int i = 1; i < keys.Count; i++)
                Add(DiagnosticDescriptors.PatternKeyShadowed, pattern.Properties[i].NameSpan, ModuleKeys.Shadowed(property.Name, keys, i, Modules, ModelName));
        }

        /// <summary>The strings of a list field; other items (and a value that is not a list or null) are PT0020.</summary>
        private IEnumerable<(string Value, SourceSpan Span)> Strings(JsonProperty property)
        {
            if (property.Value is JsonNull) yield break;
            if (property.Value is not JsonArray array)
            {
                Add(DiagnosticDescriptors.InvalidAdapterFile, property.Value.Span, $"'{property.Name}' must be a list of strings, found {property.Value.Describe()}.");
                yield break;
            }
            foreach (var item in array.Items)
            {
                if (item is JsonString s) yield return (s.Value, s.Span);
                else Add(DiagnosticDescriptors.InvalidAdapterFile, item.Span, $"Every entry of '{property.Name}' must be a string, found {item.Describe()}.");
            }
        }

        private long? Integer(JsonProperty property)
        {
            if (property.Value is JsonNumber { IsInteger: true } number && number.TryGetInt64(out var value)) return value;
            Add(DiagnosticDescriptors.InvalidAdapterFile, property.Value.Span, $"'{property.Name}' must be an integer, found {property.Value.Describe()}.");
            return null;
        }

        private double? Number(JsonProperty property)
        {
            if (property.Value is JsonNumber number) return number.ToDouble();
            Add(DiagnosticDescriptors.InvalidAdapterFile, property.Value.Span, $"'{property.Name}' must be a number, found {property.Value.Describe()}.");
            return null;
        }

        /// <summary>Adds a finding unless <paramref name="arguments"/> is one null message (the check found nothing).</summary>
        private void Add(DiagnosticDescriptor descriptor, SourceSpan span, params string?[] arguments)
        {
            if (arguments.Any(a => a is null)) return;
            _findings.Add(new AdapterFileFinding(descriptor, span, arguments.Select(a => a!).ToArray()));
        }
    }
}
