using System.Text.Json;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Tests.Adapters.TinySd;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters;

/// <summary>Access to shared/fixtures/peft: the base module with its weights, the inputs, and each case's files.</summary>
internal static class PeftFixtures
{
    public static string Root => Fixtures.PathOf("peft");

    public static string CaseDirectory(string caseName) => Path.Combine(Root, "cases", caseName);

    /// <summary>Every case folder name, for <c>[MemberData]</c>.</summary>
    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(Path.Combine(Root, "cases")).Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(dir));
        return data;
    }

    /// <summary>The base module with the fixture's weights, in eval mode.</summary>
    public static TinySdModule LoadBaseModel()
    {
        var model = new TinySdModule();
        var weights = SafetensorsFile.LoadAll(Path.Combine(Root, "base_model.safetensors"));
        var (missing, unexpected) = model.load_state_dict(weights, strict: true);
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new InvalidOperationException($"TinySd does not match base_model.safetensors: missing {string.Join(", ", missing)}; unexpected {string.Join(", ", unexpected)}.");
        foreach (var tensor in weights.Values) tensor.Dispose();
        model.eval();
        return model;
    }

    public static Dictionary<string, Tensor> Inputs() => SafetensorsFile.LoadAll(Path.Combine(Root, "inputs.safetensors"));

    public static Dictionary<string, Tensor> CaseTensors(string caseName) => SafetensorsFile.LoadAll(Path.Combine(CaseDirectory(caseName), "case.safetensors"));

    public static JsonElement CaseJson(string caseName) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(CaseDirectory(caseName), "case.json"))).RootElement;

    /// <summary>The fixture forward on the fixture inputs.</summary>
    public static (Tensor Unet, Tensor Text) Forward(TinySdModule model, IReadOnlyDictionary<string, Tensor> inputs) =>
        model.Forward(inputs["sample"], inputs["temb_in"], inputs["encoder_hidden_states"], inputs["text_hidden"]);

    /// <summary><c>mean((unet - target_unet)²) + mean((text - target_text)²)</c>.</summary>
    public static Tensor Loss((Tensor Unet, Tensor Text) output, IReadOnlyDictionary<string, Tensor> inputs) =>
        (output.Unet - inputs["target_unet"]).Pow(2).mean().Add((output.Text - inputs["target_text"]).Pow(2).mean());
}
