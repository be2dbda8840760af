using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis.Diagnostics;
using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Diagnostics;
using Peft.Typed.Generators.Pipeline;

namespace Peft.Typed.Generators.Analysis;

/// <summary>
/// The typed classes of a compilation, read from the same AdditionalFiles the generator reads. Files with errors
/// and classes claimed twice are left out (the generator reports them). Trees are cached per file text, so an
/// edit to C# code does not rebuild them.
/// </summary>
internal static class AnalyzedModels
{
    private static readonly ConcurrentDictionary<string, CacheEntry> Cache = new(StringComparer.Ordinal);

    public static IReadOnlyDictionary<string, AnalyzedModel> Read(AnalyzerOptions options, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, AnalyzedModel>(StringComparer.Ordinal);
        var claimed = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var file in options.AdditionalFiles)
        {
            var request = ArchitectureFiles.ReadRequest(file, options.AnalyzerConfigOptionsProvider, cancellationToken);
            if (request?.Text is null) continue;
            if (!ClassNames.TrySplit(request.ClassName, request.RootNamespace, out var ns, out var name, out _)) continue;
            var fullName = ns.Length == 0 ? name : ns + "." + name;
            claimed[fullName] = claimed.TryGetValue(fullName, out var count) ? count + 1 : 1;
            var model = Load(request.FilePath, name, request.Text);
            if (model is not null) found[fullName] = model;
        }
        foreach (var duplicate in claimed.Where(c => c.Value > 1)) found.Remove(duplicate.Key);
        return found;
    }

    private static AnalyzedModel? Load(string path, string className, string text)
    {
        if (Cache.TryGetValue(path, out var cached) && cached.ClassName == className && cached.Text == text) return cached.Model;
        AnalyzedModel? model = null;
        var parsed = ArchitectureDescription.ParseWithDiagnostics(text, path);
        if (parsed.Description is not null)
        {
            try
            {
                model = AnalyzedModel.Create(className, parsed.Description);
            }
            catch (ArchitectureException)
            {
                model = null;
            }
        }
        Cache[path] = new CacheEntry(className, text, model);
        return model;
    }

    private sealed record CacheEntry(string ClassName, string Text, AnalyzedModel? Model);
}
