extern alias generators;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Peft.Typed.Generators.Tests.Support;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.LoKr;
using Peft.Typed.Models.Adapters.Lora;
using TargetShape = generators::Peft.Typed.Generators.Shapes.TargetShape;

namespace Peft.Typed.Generators.Tests.Diagnostics;

/// <summary>
/// The setting analyzer (PT0014-PT0019) on adapter configs built with constants, against the generated TinyUnet and
/// TinyClipText: each diagnostic with its message and the location of the constant it is about, the same wording as
/// the config classes throw at run time, and silence for valid configs and for values it cannot know.
/// </summary>
public sealed class SettingDiagnosticTests
{
    private const string Usings = """
        using System.Collections.Generic;
        using Peft.Typed.Architecture.Targeting;
        using Peft.Typed.Generated;
        using Peft.Typed.Models.Adapters.LoHa;
        using Peft.Typed.Models.Adapters.LoKr;
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

    private static async Task<ImmutableArray<Diagnostic>> Analyze(string source)
    {
        var all = await GeneratorHarness.AnalyzeAsync([ArchitectureInputs.TinyUnet, ArchitectureInputs.TinyClipText], source);
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
        return $"({before.Count(c => c == '\n') + 1},{index - (before.LastIndexOf('\n') + 1) + 1})";
    }

    private static void AssertDiagnostic(Diagnostic diagnostic, string id, DiagnosticSeverity severity, string message, string position)
    {
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(severity, diagnostic.Severity);
        Assert.Equal(message, diagnostic.GetMessage());
        Assert.Equal(position, GeneratorHarness.Position(diagnostic));
    }

    [Fact]
    public async Task Rank_alpha_and_dropout_out_of_range_are_errors_at_their_constants_with_the_runtime_wording()
    {
        var source = Program("""var config = new LoraConfig { R = 0, LoraAlpha = -2, LoraDropout = 1.5 };""");

        var diagnostics = await Analyze(source);

        Assert.Equal(3, diagnostics.Length);
        AssertDiagnostic(diagnostics[0], "PT0014", DiagnosticSeverity.Error, RuntimeMessage(() => new LoraConfig { R = 0 }), At(source, "0,"));
        AssertDiagnostic(diagnostics[1], "PT0015", DiagnosticSeverity.Error, RuntimeMessage(() => new LoraConfig { LoraAlpha = -2 }), At(source, "-2"));
        AssertDiagnostic(diagnostics[2], "PT0016", DiagnosticSeverity.Error, RuntimeMessage(() => new LoraConfig { LoraDropout = 1.5 }), At(source, "1.5"));
        Assert.Equal("Invalid value for 'r': 0. r must be a positive integer.", diagnostics[0].GetMessage());
        Assert.Equal("Invalid value for 'lora_dropout': 1.5. lora_dropout must be between 0 and 1.", diagnostics[2].GetMessage());
    }

    [Fact]
    public async Task With_expression_settings_are_checked_too()
    {
        var source = Program("""
            var lokr = new LoKrConfig { R = 4 };
                    var changed = lokr with { DecomposeFactor = 0, ModuleDropout = -0.5, Alpha = 0 };
            """);

        var diagnostics = await Analyze(source);

        Assert.Equal(3, diagnostics.Length);
        AssertDiagnostic(diagnostics[0], "PT0017", DiagnosticSeverity.Error, RuntimeMessage(() => new LoKrConfig { DecomposeFactor = 0 }), At(source, "0, Module"));
        AssertDiagnostic(diagnostics[1], "PT0016", DiagnosticSeverity.Error, RuntimeMessage(() => new LoKrConfig { ModuleDropout = -0.5 }), At(source, "-0.5"));
        AssertDiagnostic(diagnostics[2], "PT0015", DiagnosticSeverity.Error, RuntimeMessage(() => new LoKrConfig { Alpha = 0 }), At(source, "0 }"));
    }

    [Fact]
    public async Task Pattern_values_are_checked_at_the_value()
    {
        var source = Program("""var config = new LoraConfig { RankPattern = [new("to_q", 0)], AlphaPattern = [new KeyValuePair<string, double>("to_v", -1)] };""");

        var diagnostics = await Analyze(source);

        Assert.Equal(2, diagnostics.Length);
        AssertDiagnostic(diagnostics[0], "PT0014", DiagnosticSeverity.Error, RuntimeMessage(() => new LoraConfig { RankPattern = [new("to_q", 0)] }), At(source, "0)"));
        AssertDiagnostic(diagnostics[1], "PT0015", DiagnosticSeverity.Error, RuntimeMessage(() => new LoraConfig { AlphaPattern = [new("to_v", -1)] }), At(source, "-1"));
        Assert.Equal("Invalid value for 'rank_pattern': {\"to_q\": 0}. Every rank in rank_pattern must be a positive integer.", diagnostics[0].GetMessage());
    }

    [Fact]
    public async Task Pattern_keys_naming_no_module_of_the_typed_targets_model_are_errors_with_the_closest_name()
    {
        var source = Program("""var config = new LoraConfig { TargetModules = TinyUnet.Targets.ToQ, RankPattern = [new("to_q", 8), new("to_qq", 2)], AlphaPattern = [new("to_vv", 2)] };""");

        var diagnostics = await Analyze(source);

        Assert.Equal(2, diagnostics.Length);
        AssertDiagnostic(diagnostics[0], "PT0018", DiagnosticSeverity.Error, "rank_pattern key 'to_qq' matches no module of TinyUnet; did you mean 'to_q'?", At(source, "\"to_qq\""));
        AssertDiagnostic(diagnostics[1], "PT0018", DiagnosticSeverity.Error, "alpha_pattern key 'to_vv' matches no module of TinyUnet; did you mean 'to_v'?", At(source, "\"to_vv\""));
    }

    [Fact]
    public async Task Exclusions_and_modules_to_save_of_a_config_given_to_WithAdapter_are_checked_against_that_model()
    {
        var source = Program("""
            using var encoder = TinyClipText.Create(Peft.Typed.Models.Layers.LayerFactory.Meta);
                    var config = new LoraConfig { TargetModules = TargetModules.FromNames("q_proj"), ExcludeModules = TargetModules.FromNames("k_projj"), ModulesToSave = ["final_layer_norm", "final_layer_nrm"] };
                    encoder.WithAdapter(config);
            """);

        var diagnostics = await Analyze(source);

        Assert.Equal(2, diagnostics.Length);
        AssertDiagnostic(diagnostics[0], "PT0018", DiagnosticSeverity.Error, "exclude_modules entry 'k_projj' matches no module of TinyClipText; did you mean 'k_proj'?", At(source, "\"k_projj\""));
        AssertDiagnostic(diagnostics[1], "PT0018", DiagnosticSeverity.Error, "modules_to_save entry 'final_layer_nrm' matches no module of TinyClipText; did you mean 'final_layer_norm'?", At(source, "\"final_layer_nrm\""));
    }

    [Fact]
    public async Task A_pattern_key_whose_modules_an_earlier_key_all_matches_is_a_warning_naming_that_key()
    {
        var source = Program("""var config = new LoraConfig { TargetModules = TinyUnet.Targets.ToQ, RankPattern = [new("attn1.to_q", 8), new("to_q", 2), new("down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q", 16)] };""");

        var diagnostics = await Analyze(source);

        AssertDiagnostic(Assert.Single(diagnostics), "PT0019", DiagnosticSeverity.Warning,
            "rank_pattern key 'down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q' never applies to TinyUnet: the earlier key 'attn1.to_q' matches every module it matches, and the first matching key wins",
            At(source, "\"down_blocks.1"));
    }

    [Fact]
    public async Task Values_that_are_not_constants_and_configs_of_no_known_model_are_left_to_the_runtime()
    {
        var source = Program("""
            int r = System.Environment.ProcessorCount - 100;
                    var config = new LoraConfig { R = r, LoraDropout = System.Math.Abs(-1.0), RankPattern = [new("to_qq", 2)] };
            """);

        Assert.Empty(await Analyze(source));
    }

    public static TheoryData<string, string> Presets()
    {
        var data = new TheoryData<string, string>();
        foreach (var input in new[] { ArchitectureInputs.TinyUnet, ArchitectureInputs.TinyClipText })
        {
            var description = generators::Peft.Typed.Architecture.ArchitectureDescription.Parse(input.Text, input.Path);
            var catalog = generators::Peft.Typed.Architecture.Targeting.ModuleCatalog.FromTree(input.ClassName, description.BuildTree());
            foreach (var preset in TargetShape.Create(catalog, description.Kind).Presets) data.Add(input.ClassName, preset.PropertyName);
        }
        return data;
    }

    /// <summary>Each preset of each typed model, in LoRA, LoHa and LoKr configs with valid settings: nothing to report.</summary>
    [Theory]
    [MemberData(nameof(Presets))]
    public async Task Valid_configs_on_each_preset_report_nothing(string model, string preset)
    {
        var source = Program($$"""
            using var m = {{model}}.Create(Peft.Typed.Models.Layers.LayerFactory.Meta);
                    var targets = {{model}}.Targets.{{preset}};
                    m.WithAdapter(new LoraConfig { R = 4, LoraAlpha = 8, LoraDropout = 0.1, TargetModules = targets, Bias = LoraBias.LoraOnly });
                    var loha = new LoHaConfig { R = 4, Alpha = 4, RankDropout = 0, ModuleDropout = 1, TargetModules = targets };
                    var lokr = new LoKrConfig { R = 4, Alpha = 4, DecomposeFactor = -1, TargetModules = targets } with { DecomposeFactor = 2 };
            """);

        Assert.Empty(await Analyze(source));
    }

    private static string RuntimeMessage(Func<AdapterConfig> create) => Assert.Throws<AdapterConfigException>(() => create()).Message;
}
