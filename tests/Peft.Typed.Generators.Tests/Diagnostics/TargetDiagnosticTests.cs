using System.Collections.Immutable;
using System.Text.Json;
using Microsoft.CodeAnalysis;
using Peft.Typed.Generators.Tests.Support;
using Peft.Typed.Testing;

namespace Peft.Typed.Generators.Tests.Diagnostics;

/// <summary>
/// The target analyzer (PT0001-PT0005, PT0011) on code using the generated TinyUnet: each diagnostic with its
/// message and its location, which is the literal (or expression) it is about.
/// </summary>
public sealed class TargetDiagnosticTests
{
    private const string Usings = """
        using Peft.Typed.Architecture.Targeting;
        using Peft.Typed.Generated;
        using Peft.Typed.Models.Adapters.LoHa;
        using Peft.Typed.Models.Adapters.Lora;

        """;

    private static string Program(string body) => Usings + $$"""
        public static class Program
        {
            public static void Main()
            {
                {{body}}
            }
        }
        """;

    /// <summary>The analyzer's diagnostics, after checking that the compiler found nothing else.</summary>
    private static async Task<ImmutableArray<Diagnostic>> Analyze(string source)
    {
        var all = await GeneratorHarness.AnalyzeAsync([ArchitectureInputs.TinyUnet], source);
        var other = all.Where(d => !d.Id.StartsWith("PT", StringComparison.Ordinal) && d.Severity >= DiagnosticSeverity.Warning).Select(d => d.ToString());
        Assert.Empty(other);
        return all.Where(d => d.Id.StartsWith("PT", StringComparison.Ordinal)).OrderBy(d => d.Location.SourceSpan.Start).ToImmutableArray();
    }

    /// <summary>"(line,column)" of the <paramref name="occurrence"/>-th <paramref name="text"/> in <paramref name="source"/>, 1-based.</summary>
    private static string At(string source, string text, int occurrence = 1)
    {
        int index = -1;
        for (int i = 0; i < occurrence; i++) index = source.IndexOf(text, index + 1, StringComparison.Ordinal);
        Assert.True(index >= 0, $"'{text}' not in the source.");
        var before = source[..index];
        int line = before.Count(c => c == '\n') + 1;
        int column = index - (before.LastIndexOf('\n') + 1) + 1;
        return $"({line},{column})";
    }

    private static void AssertDiagnostic(Diagnostic diagnostic, string id, DiagnosticSeverity severity, string message, string position)
    {
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(severity, diagnostic.Severity);
        Assert.Equal(message, diagnostic.GetMessage());
        Assert.Equal(position, GeneratorHarness.Position(diagnostic));
    }

    [Fact]
    public async Task Unknown_name_is_an_error_at_its_literal_with_the_closest_valid_name()
    {
        var source = Program("""var targets = TinyUnet.Targets.Named("to_q", "to_qq");""");

        var diagnostics = await Analyze(source);

        AssertDiagnostic(Assert.Single(diagnostics), "PT0001", DiagnosticSeverity.Error,
            "'to_qq' matches no module of TinyUnet; did you mean 'to_q'?", At(source, "\"to_qq\""));
    }

    /// <summary>The analyzer reads the module tree from the generated class, not by parsing the AdditionalFiles again.</summary>
    [Fact]
    public async Task Analyzer_checks_targets_from_the_generated_class_without_the_architecture_files()
    {
        var source = Program("""var targets = TinyUnet.Targets.Named("to_q", "to_qq");""");

        var diagnostics = await GeneratorHarness.AnalyzeAsync([ArchitectureInputs.TinyUnet], [], analyzerSeesArchitectureFiles: false, source);

        AssertDiagnostic(Assert.Single(diagnostics, d => d.Id.StartsWith("PT", StringComparison.Ordinal)), "PT0001", DiagnosticSeverity.Error,
            "'to_qq' matches no module of TinyUnet; did you mean 'to_q'?", At(source, "\"to_qq\""));
    }

    [Fact]
    public async Task Seed_minimal_list_warns_that_each_old_attention_name_was_renamed_and_accepts_the_list()
    {
        var source = Program("""var targets = TinyUnet.Targets.Named("to_q", "to_v", "query", "value");""");

        var diagnostics = await Analyze(source);

        Assert.Equal(2, diagnostics.Length);
        AssertDiagnostic(diagnostics[0], "PT0013", DiagnosticSeverity.Warning,
            "'query' matches no module of TinyUnet: diffusers renamed the attention projection 'query' to 'to_q'", At(source, "\"query\""));
        AssertDiagnostic(diagnostics[1], "PT0013", DiagnosticSeverity.Warning,
            "'value' matches no module of TinyUnet: diffusers renamed the attention projection 'value' to 'to_v'", At(source, "\"value\""));
    }

    /// <summary>What a new app developer tried (issue #12): the typo fails the build, the old name is a warning, and no suggestion is a list index.</summary>
    [Fact]
    public async Task Typo_next_to_an_old_attention_name_is_an_error_and_the_old_name_a_warning_saying_its_new_name()
    {
        var source = Program("""var targets = TinyUnet.Targets.Named("to_q", "to_z", "query");""");

        var diagnostics = await Analyze(source);

        Assert.Equal(2, diagnostics.Length);
        AssertDiagnostic(diagnostics[0], "PT0001", DiagnosticSeverity.Error,
            "'to_z' matches no module of TinyUnet; did you mean 'to_k'?", At(source, "\"to_z\""));
        AssertDiagnostic(diagnostics[1], "PT0013", DiagnosticSeverity.Warning,
            "'query' matches no module of TinyUnet: diffusers renamed the attention projection 'query' to 'to_q'", At(source, "\"query\""));
        Assert.All(diagnostics, d => Assert.DoesNotContain("'0'", d.GetMessage()));
    }

    [Fact]
    public async Task Old_attention_name_written_with_its_parents_is_told_the_whole_new_entry()
    {
        var source = Program("""var targets = TinyUnet.Targets.Named("attn1.to_q", "attn1.proj_attn");""");

        var diagnostics = await Analyze(source);

        AssertDiagnostic(Assert.Single(diagnostics), "PT0013", DiagnosticSeverity.Warning,
            "'attn1.proj_attn' matches no module of TinyUnet: diffusers renamed the attention projection 'proj_attn' to 'to_out.0'; write 'attn1.to_out.0'",
            At(source, "\"attn1.proj_attn\""));
    }

    [Fact]
    public async Task List_matching_nothing_is_an_error_on_the_call_besides_an_error_on_each_dead_name()
    {
        var source = Program("""var targets = TinyUnet.Targets.Named("query", "value");""");

        var diagnostics = await Analyze(source);

        Assert.Equal(3, diagnostics.Length);
        AssertDiagnostic(diagnostics[0], "PT0005", DiagnosticSeverity.Error,
            "The target set selects no module of TinyUnet: no entry of the list matches", At(source, "TinyUnet.Targets.Named"));
        AssertDiagnostic(diagnostics[1], "PT0001", DiagnosticSeverity.Error,
            "'query' matches no module of TinyUnet: diffusers renamed the attention projection 'query' to 'to_q'", At(source, "\"query\""));
        AssertDiagnostic(diagnostics[2], "PT0001", DiagnosticSeverity.Error,
            "'value' matches no module of TinyUnet: diffusers renamed the attention projection 'value' to 'to_v'", At(source, "\"value\""));
    }

    [Fact]
    public async Task Regex_matching_nothing_is_an_error_at_its_literal()
    {
        var source = Program("""var targets = TinyUnet.Targets.Matching(@"down_blocks\.7\..*");""");

        var diagnostics = await Analyze(source);

        AssertDiagnostic(Assert.Single(diagnostics), "PT0002", DiagnosticSeverity.Error,
            @"The regex 'down_blocks\.7\..*' matches no module of TinyUnet", At(source, "@\"down_blocks"));
    }

    [Fact]
    public async Task Malformed_regex_is_an_error_with_the_parser_message()
    {
        var source = Program("""var targets = TinyUnet.Targets.Matching("to_(q");""");

        var diagnostics = await Analyze(source);

        AssertDiagnostic(Assert.Single(diagnostics), "PT0011", DiagnosticSeverity.Error,
            "'to_(q' is not a valid regular expression: Invalid pattern 'to_(q' at offset 5. Not enough )'s.", At(source, "\"to_(q\""));
    }

    [Fact]
    public async Task Lora_on_norm_layers_is_an_error_naming_the_layer_kinds()
    {
        var source = Program("""var config = new LoraConfig { TargetModules = TinyUnet.Targets.Named("to_q", "norm1") };""");
        using var modules = JsonDocument.Parse(File.ReadAllText(Fixtures.PathOf("unet-tiny", "modules.json")));
        var norm1 = modules.RootElement.EnumerateObject().Where(p => p.Name.EndsWith(".norm1", StringComparison.Ordinal))
            .GroupBy(p => p.Value.GetString()).Select(g => $"{g.Count()} {g.Key} modules");

        var diagnostics = await Analyze(source);

        AssertDiagnostic(Assert.Single(diagnostics), "PT0003", DiagnosticSeverity.Error,
            $"'norm1' selects {string.Join(", ", norm1)} of TinyUnet, which LoRA cannot wrap; adapters wrap Linear and Conv2d layers", At(source, "\"norm1\""));
    }

    [Fact]
    public async Task Effective_conv2d_on_linear_targets_is_a_warning_at_the_option()
    {
        var source = Program("""var config = new LoHaConfig { UseEffectiveConv2d = true, TargetModules = TinyUnet.Targets.ToQ | TinyUnet.Targets.ToV };""");

        var diagnostics = await Analyze(source);

        AssertDiagnostic(Assert.Single(diagnostics), "PT0004", DiagnosticSeverity.Warning,
            "use_effective_conv2d has no effect: the targets of TinyUnet hold no Conv2d layer with a kernel larger than 1x1 (24 Linear modules)",
            At(source, "UseEffectiveConv2d = true"));
    }

    [Fact]
    public async Task Effective_conv2d_knows_pointwise_from_spatial_convolutions()
    {
        var pointwise = Program("""var config = new LoHaConfig { UseEffectiveConv2d = true, TargetModules = TinyUnet.Targets.ProjIn };""");
        var spatial = Program("""var config = new LoHaConfig { UseEffectiveConv2d = true, TargetModules = TinyUnet.Targets.ProjIn | TinyUnet.Targets.Conv1 };""");

        var onPointwise = await Analyze(pointwise);
        var onSpatial = await Analyze(spatial);

        Assert.Equal("use_effective_conv2d has no effect: the targets of TinyUnet hold no Conv2d layer with a kernel larger than 1x1 (6 Conv2d modules)",
            Assert.Single(onPointwise).GetMessage());
        Assert.Empty(onSpatial);
    }

    [Fact]
    public async Task Composition_that_selects_nothing_is_an_error_on_the_whole_expression()
    {
        var source = Program("""var targets = (TinyUnet.Targets.ToQ & TinyUnet.Targets.ToK) | TinyUnet.Targets.ToV.Within(TinyUnet.Scopes.DownBlocks[0]);""");

        var diagnostics = await Analyze(source);

        AssertDiagnostic(Assert.Single(diagnostics), "PT0005", DiagnosticSeverity.Error,
            "The target set selects no module of TinyUnet", At(source, "(TinyUnet.Targets.ToQ &"));
    }

    [Fact]
    public async Task Scope_index_past_the_list_is_an_error_saying_how_long_it_is()
    {
        var source = Program("""var targets = TinyUnet.Targets.ToQ.Within(TinyUnet.Scopes.DownBlocks[5]);""");

        var diagnostics = await Analyze(source);

        AssertDiagnostic(Assert.Single(diagnostics), "PT0005", DiagnosticSeverity.Error,
            "The target set selects no module of TinyUnet: No element 5 in TinyUnet: down_blocks has 2.", At(source, "TinyUnet.Targets.ToQ.Within"));
    }

    [Fact]
    public async Task Empty_set_through_a_local_is_reported_where_it_is_composed()
    {
        var source = Program("""
            var attn2 = TinyUnet.Targets.All.Within(TinyUnet.Scopes.Attn2);
                    var config = new LoraConfig { TargetModules = attn2 - TinyUnet.Targets.All };
            """);

        var diagnostics = await Analyze(source);

        AssertDiagnostic(Assert.Single(diagnostics), "PT0005", DiagnosticSeverity.Error,
            "The target set selects no module of TinyUnet", At(source, "attn2 - TinyUnet.Targets.All"));
    }

    [Fact]
    public async Task String_list_in_a_config_given_to_a_typed_model_is_checked()
    {
        var source = Program("""
            using var unet = TinyUnet.Create(Peft.Typed.Models.Layers.LayerFactory.Meta);
                    unet.WithAdapter(new LoraConfig { TargetModules = TargetModules.FromNames("to_q", "to_qq") });
            """);

        var diagnostics = await Analyze(source);

        AssertDiagnostic(Assert.Single(diagnostics), "PT0001", DiagnosticSeverity.Error,
            "'to_qq' matches no module of TinyUnet; did you mean 'to_q'?", At(source, "\"to_qq\""));
    }

    [Fact]
    public async Task String_list_in_a_config_local_is_checked_against_the_model_it_is_given_to()
    {
        var source = Program("""
            var config = new LoraConfig { TargetModules = TargetModules.FromNames("query") };
                    using var unet = TinyUnet.Create(Peft.Typed.Models.Layers.LayerFactory.Meta);
                    unet.WithAdapter(config);
            """);

        var diagnostics = await Analyze(source);

        Assert.Equal(["PT0005", "PT0001"], diagnostics.Select(d => d.Id));
        AssertDiagnostic(diagnostics[1], "PT0001", DiagnosticSeverity.Error,
            "'query' matches no module of TinyUnet: diffusers renamed the attention projection 'query' to 'to_q'", At(source, "\"query\""));
        AssertDiagnostic(diagnostics[0], "PT0005", DiagnosticSeverity.Error,
            "The target set selects no module of TinyUnet: no entry of the list matches", At(source, "TargetModules.FromNames"));
    }

    [Fact]
    public async Task Names_given_to_a_views_targets_are_checked_against_the_model()
    {
        var source = Program("""
            using var unet = TinyUnet.Create(Peft.Typed.Models.Layers.LayerFactory.Meta);
                    var targets = unet.MidBlock.Targets.Named("to_q", "to_qq") | unet.DownBlocks.Block1.Targets.Matching("to_(q");
            """);

        var diagnostics = await Analyze(source);

        Assert.Equal(2, diagnostics.Length);
        AssertDiagnostic(diagnostics[0], "PT0001", DiagnosticSeverity.Error,
            "'to_qq' matches no module of TinyUnet; did you mean 'to_q'?", At(source, "\"to_qq\""));
        Assert.Equal(("PT0011", At(source, "\"to_(q\"")), (diagnostics[1].Id, GeneratorHarness.Position(diagnostics[1])));
    }

    [Fact]
    public async Task String_list_of_a_config_no_typed_model_receives_is_not_guessed_at()
    {
        var source = Program("""var config = new LoraConfig { TargetModules = TargetModules.FromNames("query", "value") };""");

        Assert.Empty(await Analyze(source));
    }

    [Fact]
    public async Task Names_that_are_not_constants_are_not_guessed_at()
    {
        var source = Program("""
            var name = System.Environment.GetEnvironmentVariable("TARGET") ?? "to_q";
                    var targets = TinyUnet.Targets.Named(name, "to_v");
            """);

        Assert.Empty(await Analyze(source));
    }

    [Fact]
    public async Task Valid_typed_targets_give_no_diagnostic()
    {
        var source = Program("""
            var down = (TinyUnet.Targets.ToQ | TinyUnet.Targets.ToK | TinyUnet.Targets.ToV).Within(TinyUnet.Scopes.DownBlocks[1]);
                    var all = TinyUnet.Targets.Comprehensive - TinyUnet.Targets.TimeEmbProj;
                    var named = TinyUnet.Targets.Named("to_out.0", "ff.net.2") | TinyUnet.Targets.Matching(@".*attn2\.to_[kv]");
                    var config = new LoraConfig { R = 4, TargetModules = down | all | named | TinyUnet.Targets.Minimal };
                    using var unet = TinyUnet.Create(Peft.Typed.Models.Layers.LayerFactory.Meta);
                    var views = TinyUnet.Targets.All.Within(unet.MidBlock) | unet.DownBlocks.Block1.Targets.ToQ | unet.UpBlocks[0].Targets.Named("to_k")
                        | TinyUnet.Targets.Conv1.Except(unet.UpBlocks.Block0);
                    unet.WithAdapter(new LoraConfig { TargetModules = views });
            """);

        Assert.Empty(await Analyze(source));
    }
}
