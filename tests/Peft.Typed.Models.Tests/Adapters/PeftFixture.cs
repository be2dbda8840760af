using System.Reflection;
using System.Text.Json;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Tests.Adapters.TinySd;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters;

/// <summary>
/// A fixture folder in the format of shared/fixtures/peft (module.json, base_model.safetensors, inputs.safetensors,
/// cases/&lt;case&gt;/…): the base module built from its module.json spec with its weights, the inputs, and each case's files.
/// </summary>
internal sealed class PeftFixture(string root)
{
    /// <summary>shared/fixtures/peft: LoRA, LoHa and LoKr cases.</summary>
    public static PeftFixture Peft => Open("peft");

    /// <summary>A folder of shared/fixtures by name, or any folder by absolute path.</summary>
    public static PeftFixture Open(string folder) => new(Path.IsPathRooted(folder) ? folder : Fixtures.PathOf(folder));

    /// <summary>
    /// (folder, case) for every case of every fixture folder this assembly registers with
    /// <see cref="PeftFixtureFolderAttribute"/>, optionally only cases whose case.json passes <paramref name="filter"/>.
    /// </summary>
    public static TheoryData<string, string> RegisteredCases(Func<JsonElement, bool>? filter = null)
    {
        var data = new TheoryData<string, string>();
        foreach (var folder in typeof(PeftFixture).Assembly.GetCustomAttributes<PeftFixtureFolderAttribute>().Select(a => a.Folder).Order(StringComparer.Ordinal))
        {
            var fixture = Open(folder);
            foreach (var caseName in fixture.Cases())
            {
                if (filter is null || filter(fixture.CaseJson(caseName))) data.Add(folder, caseName);
            }
        }
        return data;
    }

    public string Root { get; } = root;

    public string ModuleJson => Path.Combine(Root, "module.json");

    public string CaseDirectory(string caseName) => Path.Combine(Root, "cases", caseName);

    /// <summary>Every case folder name, in ordinal order.</summary>
    public IReadOnlyList<string> Cases() =>
        Directory.GetDirectories(Path.Combine(Root, "cases")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()!;

    /// <summary>The base module built from module.json's spec, without weights.</summary>
    public TinySdModule BuildBaseModel() => new(TinySdSpec.Read(ModuleJson));

    /// <summary>The base module with the fixture's weights, in eval mode.</summary>
    public TinySdModule LoadBaseModel()
    {
        var model = BuildBaseModel();
        var weights = SafetensorsFile.LoadAll(Path.Combine(Root, "base_model.safetensors"));
        var (missing, unexpected) = model.load_state_dict(weights, strict: true);
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new InvalidOperationException($"The module built from {ModuleJson} does not match base_model.safetensors: missing {string.Join(", ", missing)}; unexpected {string.Join(", ", unexpected)}.");
        foreach (var tensor in weights.Values) tensor.Dispose();
        model.eval();
        return model;
    }

    public Dictionary<string, Tensor> Inputs() => SafetensorsFile.LoadAll(Path.Combine(Root, "inputs.safetensors"));

    public Dictionary<string, Tensor> CaseTensors(string caseName) => SafetensorsFile.LoadAll(Path.Combine(CaseDirectory(caseName), "case.safetensors"));

    public JsonElement CaseJson(string caseName) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(CaseDirectory(caseName), "case.json"))).RootElement;

    /// <summary>The fixture forward on the fixture inputs.</summary>
    public static (Tensor Unet, Tensor Text) Forward(TinySdModule model, IReadOnlyDictionary<string, Tensor> inputs) =>
        model.Forward(inputs["sample"], inputs["temb_in"], inputs["encoder_hidden_states"], inputs["text_hidden"]);

    /// <summary><c>mean((unet - target_unet)²) + mean((text - target_text)²)</c>.</summary>
    public static Tensor Loss((Tensor Unet, Tensor Text) output, IReadOnlyDictionary<string, Tensor> inputs) =>
        (output.Unet - inputs["target_unet"]).Pow(2).mean().Add((output.Text - inputs["target_text"]).Pow(2).mean());
}
