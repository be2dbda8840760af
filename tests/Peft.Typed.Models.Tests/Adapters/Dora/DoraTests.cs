using System.Text.Json.Nodes;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Formats;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

// Every peft-dora case runs through every PEFT case check (PeftCaseTests).
[assembly: Peft.Typed.Models.Tests.Adapters.PeftFixtureFolder(Peft.Typed.Models.Tests.Adapters.Dora.DoraTests.FixtureFolder)]

namespace Peft.Typed.Models.Tests.Adapters.Dora;

/// <summary>DoRA (<c>use_dora</c>) beyond the shared case checks: PEFT's detached norm, the initial magnitude, config and formats.</summary>
public sealed class DoraTests
{
    public const string FixtureFolder = "peft-dora";

    private const string Adapter = PeftModel.DefaultAdapterName;

    private static PeftFixture Fixture => PeftFixture.Open(FixtureFolder);

    public static TheoryData<string> Cases => new(Fixture.Cases());

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_and_B_gradients_treat_the_weight_norm_as_a_constant_as_peft_does(string caseName)
    {
        var tensors = Fixture.CaseTensors(caseName);
        var inputs = Fixture.Inputs();
        using var model = Fixture.LoadBaseModel();
        var peft = PeftModel.FromPretrained(model, Fixture.CaseDirectory(caseName), isTrainable: true);
        PeftFixture.Loss(PeftFixture.Forward(model, inputs), inputs).backward();
        var parameters = peft.GetAdapterStateDict();

        double largest = Fixture.CaseJson(caseName).GetProperty("checks").GetProperty("grad_max_abs_value").GetDouble();
        double tolerance = 1e-5 * Math.Max(1, largest);
        var exactKeys = tensors.Keys.Where(k => k.StartsWith("grad_exact.", StringComparison.Ordinal)).ToList();
        int differing = 0;
        foreach (var exactKey in exactKeys)
        {
            var key = exactKey["grad_exact.".Length..];
            var exact = tensors[exactKey];
            if (exact.sub(tensors["grad." + key]).abs().max().item<float>() <= 10 * tolerance) continue;
            differing++;
            Assert.True(parameters[key].grad!.sub(exact).abs().max().item<float>() > 10 * tolerance, $"{key} follows the exact derivative, not PEFT's detached norm");
        }
        Assert.True(differing > 0, "the fixture's exact and detached-norm gradients should differ somewhere");
    }

    [Fact]
    public void A_new_dora_adapter_starts_with_the_weight_norm_as_magnitude_and_the_base_outputs()
    {
        var inputs = Fixture.Inputs();
        using var model = Fixture.LoadBaseModel();
        var peft = PeftModel.Create(model, new LoraConfig { R = 4, LoraAlpha = 8, UseDora = true, TargetModules = TargetModules.FromNames("to_q", "conv1", "fc1") });

        var layers = peft.AdapterLayers();
        Assert.Contains(layers, l => l.Geometry.IsConv);
        Assert.Contains(layers, l => !l.Geometry.IsConv);
        foreach (var layer in layers)
        {
            var magnitude = Assert.Single(layer.TensorsOf(Adapter), t => t.Container == "lora_magnitude_vector");
            Assert.Equal("lora_magnitude_vector", magnitude.SavedKey);
            Assert.True(magnitude.Parameter.requires_grad);
            // B starts at zero, so the magnitude is ‖W‖ per output channel: √(Σ w²) over everything but the output dim.
            var weight = layer.BaseWeight.detach();
            var norm = weight.reshape(weight.shape[0], -1).Pow(2).sum(1).sqrt();
            long[] shape = layer.Geometry.IsConv ? [1, weight.shape[0], 1, 1] : [weight.shape[0]];
            Assert.Equal(shape, magnitude.Parameter.shape);
            TensorAssert.Close(norm.reshape(shape), magnitude.Parameter, 1e-6, 1e-6, layer.ModuleName);
        }
        using var noGrad = no_grad();
        var output = PeftFixture.Forward(model, inputs);
        TensorAssert.Close(inputs["base.unet"], output.Unet, 1e-5, 1e-4, "base.unet");
        TensorAssert.Close(inputs["base.text"], output.Text, 1e-5, 1e-4, "base.text");
    }

    [Fact]
    public void Use_dora_reads_as_the_dora_variant_and_is_written_back()
    {
        var config = Assert.IsType<LoraConfig>(AdapterConfig.FromJson("""{"peft_type": "LORA", "use_dora": true}"""));
        Assert.True(config.UseDora);
        Assert.Equal("DoRA", config.Variant!.Name);
        Assert.True(JsonNode.Parse(config.ToJson())!["use_dora"]!.GetValue<bool>());
        Assert.Null(new LoraConfig().Variant);
    }

    [Theory]
    [InlineData(AdapterFileFormat.Kohya)]
    [InlineData(AdapterFileFormat.Diffusers)]
    public void Single_file_formats_refuse_dora_naming_the_format(AdapterFileFormat format)
    {
        using var model = Fixture.LoadBaseModel();
        var peft = PeftModel.FromPretrained(model, Fixture.CaseDirectory(Fixture.Cases()[0]));
        var path = Path.Combine(Path.GetTempPath(), $"never-written-{Guid.NewGuid():N}.safetensors");
        var error = Assert.Throws<AdapterFormatException>(() => AdapterFiles.Write(path, format, new Dictionary<string, AdapterState> { ["unet"] = AdapterState.From(peft) }));
        Assert.Equal($"{path}: unet: the {format} format holds no DoRA tensors (use_dora = true); save a PEFT folder instead.", error.Message);
        Assert.False(File.Exists(path));
    }
}
