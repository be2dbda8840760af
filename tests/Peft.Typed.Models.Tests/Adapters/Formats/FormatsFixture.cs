using System.Text.Json.Nodes;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Formats;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Tests.Support;
using Peft.Typed.Models.Unet;
using Peft.Typed.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.Formats;

/// <summary>
/// The lora-formats fixture: fresh tiny UNet / CLIP text encoder models, their catalogs, the case inputs and
/// reference outputs, and the forward each reference output was taken with.
/// </summary>
internal static class FormatsFixture
{
    /// <summary>README "What a consumer must assert": UNet 1e-4, text 1e-5.</summary>
    public static double Tolerance(string component) => component == "unet" ? 1e-4 : 1e-5;

    /// <summary>case.safetensors output key segment of a component.</summary>
    public static string OutputName(string component) => component == "unet" ? "unet" : "text";

    public static string PathOf(params string[] parts) => Fixtures.PathOf(["lora-formats", .. parts]);

    public static readonly Lazy<Dictionary<string, Tensor>> Case = new(() => ModuleFixture.LoadShared(PathOf("case.safetensors")));

    public static readonly Lazy<JsonObject> CaseJson = new(() => (JsonObject)JsonNode.Parse(File.ReadAllText(PathOf("case.json")))!);

    /// <summary>The components of the fixture: unet and text_encoder (the peft/ sub-folders).</summary>
    public static IReadOnlyList<string> Components =>
        Directory.GetDirectories(PathOf("peft")).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();

    public static nn.Module NewModel(string component) => component switch
    {
        "unet" => UNet2DConditionModel.FromPretrained(Fixtures.PathOf("unet-tiny")),
        "text_encoder" => CLIPTextModel.FromPretrained(Fixtures.PathOf("clip-text-tiny")),
        _ => throw new ArgumentOutOfRangeException(nameof(component), component, null),
    };

    public static Dictionary<string, ModuleCatalog> Catalogs()
    {
        var catalogs = new Dictionary<string, ModuleCatalog>(StringComparer.Ordinal);
        foreach (var component in Components)
        {
            using var model = NewModel(component);
            catalogs[component] = new ModuleCatalog(component, PeftModel.ListModules(model));
        }
        return catalogs;
    }

    /// <summary>The forward the case's outputs were taken with: UNet sample, text last_hidden_state.</summary>
    public static Tensor Forward(string component, nn.Module model)
    {
        using var noGrad = no_grad();
        var c = Case.Value;
        return model switch
        {
            UNet2DConditionModel unet => unet.call(new UNet2DConditionInput(c["input.sample"], c["input.timestep"], c["input.encoder_hidden_states"])),
            CLIPTextModel text => text.call(c["input.input_ids"]).LastHiddenState,
            _ => throw new ArgumentOutOfRangeException(nameof(model), component, null),
        };
    }

    /// <summary>Applies <paramref name="state"/> to a fresh model of <paramref name="component"/> and returns its output.</summary>
    public static Tensor OutputWith(string component, AdapterState state)
    {
        using var model = NewModel(component);
        state.ApplyTo(model);
        return Forward(component, model).MoveToOuterDisposeScope();
    }

    /// <summary>Same keys, same shapes, values within 1e-6 (alphas compared as numbers, whatever their dtype).</summary>
    public static void SameTensors(string expectedFile, string actualFile)
    {
        using var scope = NewDisposeScope();
        var expected = SafetensorsFile.LoadAll(expectedFile);
        var actual = SafetensorsFile.LoadAll(actualFile);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, value) in expected)
        {
            Assert.True(value.shape.SequenceEqual(actual[key].shape), $"{key}: shape [{string.Join(", ", actual[key].shape)}], expected [{string.Join(", ", value.shape)}]");
            Compare.Close(value.to_type(ScalarType.Float64), actual[key].to_type(ScalarType.Float64), 1e-6, what: key);
        }
    }
}
