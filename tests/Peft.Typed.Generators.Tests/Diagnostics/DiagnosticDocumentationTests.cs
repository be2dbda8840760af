extern alias generators;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Peft.Typed.Testing;
using DiagnosticDescriptors = generators::Peft.Typed.Generators.Diagnostics.DiagnosticDescriptors;
using TargetAnalyzer = generators::Peft.Typed.Generators.Analysis.TargetAnalyzer;

namespace Peft.Typed.Generators.Tests.Diagnostics;

/// <summary>
/// Every rule is documented where its help link points (docs/diagnostics.md, one section per id, a severity table that
/// agrees with the descriptors) and tracked in the analyzer release files.
/// </summary>
public sealed partial class DiagnosticDocumentationTests
{
    private static readonly string Docs = File.ReadAllText(Path.Combine(Fixtures.RepoRoot, "docs", "diagnostics.md"));

    public static TheoryData<string> Ids()
    {
        var data = new TheoryData<string>();
        foreach (var descriptor in DiagnosticDescriptors.Every.OrderBy(d => d.Id, StringComparer.Ordinal)) data.Add(descriptor.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Help_link_names_the_rules_section_of_docs_diagnostics(string id)
    {
        var descriptor = DiagnosticDescriptors.ById(id);

        Assert.Equal("docs/diagnostics.md#" + id.ToLowerInvariant(), descriptor.HelpLinkUri);
        Assert.Contains($"\n## {id}\n", Docs.ReplaceLineEndings("\n"));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Severity_table_row_agrees_with_the_descriptor(string id)
    {
        var descriptor = DiagnosticDescriptors.ById(id);

        var row = Assert.Single(TableRow().Matches(Docs), m => m.Groups["id"].Value == id);

        Assert.Equal(id.ToLowerInvariant(), row.Groups["anchor"].Value);
        Assert.Equal(descriptor.DefaultSeverity.ToString(), row.Groups["severity"].Value);
        Assert.Equal(descriptor.Title.ToString(), row.Groups["title"].Value);
    }

    [Fact]
    public void Table_lists_exactly_the_rules()
    {
        Assert.Equal(DiagnosticDescriptors.Every.Select(d => d.Id).Order(StringComparer.Ordinal), TableRow().Matches(Docs).Select(m => m.Groups["id"].Value));
    }

    [Fact]
    public void Analyzer_reports_the_target_rules_with_their_documented_severity()
    {
        var supported = new TargetAnalyzer().SupportedDiagnostics;

        Assert.Equal(["PT0001", "PT0002", "PT0003", "PT0004", "PT0005", "PT0011", "PT0013"], supported.Select(d => d.Id).Order(StringComparer.Ordinal));
        Assert.Equal(DiagnosticSeverity.Error, supported.Single(d => d.Id == "PT0001").DefaultSeverity);
        Assert.Equal(DiagnosticSeverity.Warning, supported.Single(d => d.Id == "PT0013").DefaultSeverity);
    }

    [GeneratedRegex(@"^\| \[(?<id>PT\d{4})\]\(#(?<anchor>[^)]+)\) \| (?<severity>\w+) \| (?<title>[^|]+?) \|$", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}
