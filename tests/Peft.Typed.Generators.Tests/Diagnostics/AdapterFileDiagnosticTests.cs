using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Peft.Typed.Generators.Tests.Support;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Testing;

namespace Peft.Typed.Generators.Tests.Diagnostics;

/// <summary>
/// adapter_config.json files declared with <c>PeftAdapterFor</c>, checked at build time against the typed class they
/// name: each diagnostic with its message and its line and column in the JSON; the PEFT-written fixture files are clean.
/// </summary>
public sealed class AdapterFileDiagnosticTests
{
    private const string AdapterPath = "/app/adapters/style/adapter_config.json";

    /// <summary>A LoRA config for TinyUnet as PEFT 0.20.0 writes it (the fixture's), with <paramref name="replace"/> applied to its text.</summary>
    private static string UnetConfig(params (string From, string To)[] replace)
    {
        var text = File.ReadAllText(Fixtures.PathOf("lora-formats", "peft", "unet", "adapter_config.json"));
        foreach (var (from, to) in replace)
        {
            Assert.Contains(from, text);
            text = text.Replace(from, to);
        }
        return text;
    }

    private static async Task<ImmutableArray<Diagnostic>> Analyze(string json, string model = "TinyUnet")
    {
        var all = await GeneratorHarness.AnalyzeAsync([ArchitectureInputs.TinyUnet, ArchitectureInputs.TinyClipText], [new AdapterInput(AdapterPath, model, json)],
            analyzerSeesArchitectureFiles: true);
        Assert.Empty(all.Where(d => !d.Id.StartsWith("PT", StringComparison.Ordinal) && d.Severity >= DiagnosticSeverity.Warning));
        return all.Where(d => d.Id.StartsWith("PT", StringComparison.Ordinal)).OrderBy(d => d.Location.SourceSpan.Start).ToImmutableArray();
    }

    /// <summary>"(line,column)" of the first <paramref name="text"/> in <paramref name="json"/> (moved on by <paramref name="skip"/> characters), 1-based.</summary>
    private static string At(string json, string text, int skip = 0)
    {
        int index = json.IndexOf(text, StringComparison.Ordinal);
        Assert.True(index >= 0, $"'{text}' not in the file.");
        index += skip;
        var before = json[..index];
        return $"({before.Count(c => c == '\n') + 1},{index - (before.LastIndexOf('\n') + 1) + 1})";
    }

    private static void AssertDiagnostic(Diagnostic diagnostic, string id, DiagnosticSeverity severity, string message, string position)
    {
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(severity, diagnostic.Severity);
        Assert.Equal(message, diagnostic.GetMessage());
        Assert.Equal(AdapterPath, diagnostic.Location.GetLineSpan().Path);
        Assert.Equal(position, GeneratorHarness.Position(diagnostic));
    }

    /// <summary>The diffusers component folder each fixture adapter belongs to, and the typed class generated from that component's config.json.</summary>
    private static readonly Dictionary<string, string> ClassOfComponent = new() { ["unet"] = "TinyUnet", ["text_encoder"] = "TinyClipText" };

    public static TheoryData<string> FixtureAdapters()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Fixtures.PathOf("lora-formats", "peft"), "adapter_config.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(Fixtures.PathOf("lora-formats", "peft"), file));
        return data;
    }

    [Theory]
    [MemberData(nameof(FixtureAdapters))]
    public async Task Adapter_configs_PEFT_wrote_for_the_tiny_models_report_nothing(string relativePath)
    {
        var component = relativePath.Split(Path.DirectorySeparatorChar)[0];
        Assert.True(ClassOfComponent.TryGetValue(component, out var model), $"No typed class for component '{component}'.");

        var diagnostics = await Analyze(File.ReadAllText(Fixtures.PathOf("lora-formats", "peft", relativePath)), model!);

        Assert.Empty(diagnostics);
    }

    [Fact]
    public async Task Misspelt_target_is_an_error_at_its_string_in_the_json_with_the_closest_name()
    {
        var json = UnetConfig(("\"to_q\"", "\"to_qq\""));

        var diagnostics = await Analyze(json);

        AssertDiagnostic(Assert.Single(diagnostics), "PT0001", DiagnosticSeverity.Error, "'to_qq' matches no module of TinyUnet; did you mean 'to_q'?", At(json, "\"to_qq\""));
    }

    [Fact]
    public async Task Values_out_of_range_and_unknown_fields_point_at_their_json()
    {
        var json = UnetConfig(("\"r\": 4", "\"r\": 0"), ("\"lora_dropout\": 0.0", "\"lora_dropout\": 2"), ("\"use_rslora\": false", "\"use_rslora\": false,\n  \"lora_alpah\": 8"));

        var diagnostics = await Analyze(json);

        Assert.Equal(3, diagnostics.Length);
        AssertDiagnostic(diagnostics[0], "PT0016", DiagnosticSeverity.Error, "Invalid value for 'lora_dropout': 2. lora_dropout must be between 0 and 1.", At(json, "\"lora_dropout\": 2", "\"lora_dropout\": ".Length));
        AssertDiagnostic(diagnostics[1], "PT0014", DiagnosticSeverity.Error, "Invalid value for 'r': 0. r must be a positive integer.", At(json, "\"r\": 0", "\"r\": ".Length));
        AssertDiagnostic(diagnostics[2], "PT0021", DiagnosticSeverity.Warning, "'lora_alpah' is not a field of PEFT 0.20.0's LoraConfig; PEFT ignores it", At(json, "\"lora_alpah\""));
    }

    [Fact]
    public async Task Pattern_keys_exclusions_and_modules_to_save_are_resolved_against_the_module_tree()
    {
        var json = UnetConfig(
            ("\"rank_pattern\": {}", "\"rank_pattern\": {\n    \"attn1.to_q\": 8,\n    \"down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q\": 2,\n    \"to_kk\": 2\n  }"),
            ("\"exclude_modules\": null", "\"exclude_modules\": [\"attn9.to_q\"]"),
            ("\"modules_to_save\": null", "\"modules_to_save\": [\"conv_outt\"]"));

        var diagnostics = await Analyze(json);

        Assert.Equal(4, diagnostics.Length);
        AssertDiagnostic(diagnostics[0], "PT0018", DiagnosticSeverity.Error, "exclude_modules entry 'attn9.to_q' matches no module of TinyUnet; did you mean 'attn1.to_q'?", At(json, "\"attn9.to_q\""));
        AssertDiagnostic(diagnostics[1], "PT0018", DiagnosticSeverity.Error, "modules_to_save entry 'conv_outt' matches no module of TinyUnet; did you mean 'conv_out'?", At(json, "\"conv_outt\""));
        AssertDiagnostic(diagnostics[2], "PT0019", DiagnosticSeverity.Warning,
            "rank_pattern key 'down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q' never applies to TinyUnet: the earlier key 'attn1.to_q' matches every module it matches, and the first matching key wins",
            At(json, "\"down_blocks.1.attentions"));
        AssertDiagnostic(diagnostics[3], "PT0018", DiagnosticSeverity.Error, "rank_pattern key 'to_kk' matches no module of TinyUnet; did you mean 'to_k'?", At(json, "\"to_kk\""));
    }

    [Fact]
    public async Task A_regex_target_matching_nothing_and_an_unsupported_peft_type_are_errors_at_their_values()
    {
        var regex = UnetConfig(("\"target_modules\": [", "\"target_modules\": \".*\\\\.to_z\",\n  \"unused_list\": ["));
        var ia3 = UnetConfig(("\"LORA\"", "\"IA3\""));

        var regexDiagnostics = await Analyze(regex);
        var ia3Diagnostic = Assert.Single(await Analyze(ia3));

        var regexError = Assert.Single(regexDiagnostics, d => d.Id == "PT0002");
        AssertDiagnostic(regexError, "PT0002", DiagnosticSeverity.Error, "The regex '.*\\.to_z' matches no module of TinyUnet", At(regex, "\".*"));
        var runtime = Assert.Throws<AdapterConfigException>(() => AdapterConfig.FromJson(ia3));
        AssertDiagnostic(ia3Diagnostic, "PT0020", DiagnosticSeverity.Error, runtime.Message, At(ia3, "\"IA3\""));
    }

    [Fact]
    public async Task Malformed_json_is_an_error_at_the_offending_character()
    {
        var json = UnetConfig(("\"r\": 4,", "\"r\": 4,,"));

        var diagnostic = Assert.Single(await Analyze(json));

        Assert.Equal("PT0020", diagnostic.Id);
        Assert.Equal(AdapterPath, diagnostic.Location.GetLineSpan().Path);
        Assert.Equal(At(json, ",,", skip: 1), GeneratorHarness.Position(diagnostic));
    }

    [Fact]
    public async Task PeftAdapterFor_naming_no_typed_class_is_an_error_at_the_start_of_the_file()
    {
        var json = UnetConfig();

        var diagnostic = Assert.Single(await Analyze(json, model: "TinyUnett"));

        AssertDiagnostic(diagnostic, "PT0022", DiagnosticSeverity.Error,
            "PeftAdapterFor 'TinyUnett' names no typed class of this compilation; give the PeftTypedClass of the model the adapter is for", "(1,1)");
    }

    [Fact]
    public void Generated_accessor_bakes_the_file_in_and_applies_it_only_to_its_typed_class()
    {
        var json = UnetConfig();
        var adapter = new AdapterInput(AdapterPath, "TinyUnet", json);
        const string app = """
            using Peft.Typed.Generated;
            public static class App
            {
                public static int Right() { using var unet = TinyUnet.Create(Peft.Typed.Models.Layers.LayerFactory.Meta); return Adapters.Style.ApplyTo(unet).TargetedModuleNames().Count; }
                public static void Wrong() { using var encoder = TinyClipText.Create(Peft.Typed.Models.Layers.LayerFactory.Meta); Adapters.Style.ApplyTo(encoder); }
            }
            """;

        var (result, output) = GeneratorHarness.Run([ArchitectureInputs.TinyUnet, ArchitectureInputs.TinyClipText], [app], adapters: [adapter]);

        Assert.Empty(result.Diagnostics);
        var accessor = Assert.Single(result.Results.Single().GeneratedSources, s => s.HintName == "Adapters.Style.g.cs");
        Assert.Contains("public static class Style", accessor.SourceText.ToString());
        Assert.Equal(json.Replace("\r\n", "\n"), StyleConfigJson(output));
        var error = Assert.Single(output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal("CS1503", error.Id);
        Assert.Contains("TinyClipText", error.GetMessage());
    }

    /// <summary>The value of the generated <c>Adapters.Style.ConfigJson</c> constant.</summary>
    private static string StyleConfigJson(Compilation compilation) =>
        (string)compilation.GetTypeByMetadataName("Peft.Typed.Generated.Adapters+Style")!.GetMembers("ConfigJson").OfType<IFieldSymbol>().Single().ConstantValue!;
}
