using System.Text.Json;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters;

/// <summary>The module built from module.json's spec is the fixture's base module: same keys, shapes and un-adapted outputs.</summary>
public sealed class TinySdModuleTests
{
    [Fact]
    public void Base_module_reproduces_the_fixture_outputs_and_loss()
    {
        var fixture = PeftFixture.Peft;
        var inputs = fixture.Inputs();
        using var model = fixture.LoadBaseModel();
        using var noGrad = no_grad();
        var output = PeftFixture.Forward(model, inputs);
        TensorAssert.Close(inputs["base.unet"], output.Unet, 1e-5, 1e-4, "base.unet");
        TensorAssert.Close(inputs["base.text"], output.Text, 1e-5, 1e-4, "base.text");
        TensorAssert.Close(inputs["base.loss"], PeftFixture.Loss(output, inputs).reshape(1), 0, 1e-5, "base.loss");
    }

    [Fact]
    public void Parameter_count_matches_module_json()
    {
        var fixture = PeftFixture.Peft;
        using var document = JsonDocument.Parse(File.ReadAllText(fixture.ModuleJson));
        var expected = document.RootElement.GetProperty("leaf_modules").EnumerateArray().SelectMany(ParametersOf)
            .ToDictionary(p => p.Key, p => string.Join("x", p.Shape));

        using var model = fixture.BuildBaseModel();
        var actual = model.named_parameters().ToDictionary(p => p.name, p => string.Join("x", p.parameter.shape));
        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(document.RootElement.GetProperty("param_count").GetInt64(), model.parameters().Sum(p => p.numel()));
    }

    /// <summary>The parameters PyTorch gives a leaf module of module.json (name, type and sizes as listed there).</summary>
    private static IEnumerable<(string Key, long[] Shape)> ParametersOf(JsonElement leaf)
    {
        var name = leaf.GetProperty("name").GetString()!;
        long Int(string field) => leaf.GetProperty(field).GetInt64();
        bool HasBias() => leaf.GetProperty("bias").GetBoolean();
        switch (leaf.GetProperty("type").GetString())
        {
            case "Linear":
                yield return ($"{name}.weight", [Int("out_features"), Int("in_features")]);
                if (HasBias()) yield return ($"{name}.bias", [Int("out_features")]);
                break;
            case "Conv2d":
                var kernel = leaf.GetProperty("kernel_size").EnumerateArray().Select(k => k.GetInt64()).ToArray();
                yield return ($"{name}.weight", [Int("out_channels"), Int("in_channels"), .. kernel]);
                if (HasBias()) yield return ($"{name}.bias", [Int("out_channels")]);
                break;
            case "GroupNorm":
                yield return ($"{name}.weight", [Int("num_channels")]);
                yield return ($"{name}.bias", [Int("num_channels")]);
                break;
            case "LayerNorm":
                var shape = leaf.GetProperty("normalized_shape").EnumerateArray().Select(k => k.GetInt64()).ToArray();
                yield return ($"{name}.weight", shape);
                yield return ($"{name}.bias", shape);
                break;
            case "Dropout":
                break;
            case var other:
                throw new NotSupportedException($"module.json leaf '{name}' has type {other}, which this test does not know.");
        }
    }
}
