using System.Text.Json;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Tests.Support;

namespace Peft.Typed.Architecture.Tests.Configs;

/// <summary>Config differences by key, the check behind the generated classes' FromPretrained.</summary>
public sealed class ConfigComparerTests
{
    private static ArchitectureConfig Read(string folder) =>
        ArchitectureDescription.Parse(new FixtureModel(folder).ReadText("config.json"), folder).Config;

    [Fact]
    public void Sd15_and_sd21_differ_in_exactly_the_keys_their_resolved_configs_differ_in()
    {
        using var sd15 = JsonDocument.Parse(new FixtureModel("architectures/sd15-unet").ReadText("config.resolved.json"));
        using var sd21 = JsonDocument.Parse(new FixtureModel("architectures/sd21-unet").ReadText("config.resolved.json"));
        var expected = sd15.RootElement.EnumerateObject()
            .Where(p => !p.Name.StartsWith('_') && p.Value.GetRawText() != sd21.RootElement.GetProperty(p.Name).GetRawText())
            .Select(p => p.Name);

        var differences = ConfigComparer.Differences(Read("architectures/sd15-unet"), Read("architectures/sd21-unet"));

        Assert.Equal(expected.Order(), differences.Select(d => d.Key).Order());
        Assert.Equal("cross_attention_dim: 768 expected, 1024 found", differences.Single(d => d.Key == "cross_attention_dim").ToString());
        Assert.Equal("attention_head_dim: 8 expected, [5, 10, 20, 20] found", differences.Single(d => d.Key == "attention_head_dim").ToString());
    }

    [Fact]
    public void Another_model_class_is_the_only_difference_reported()
    {
        var difference = Assert.Single(ConfigComparer.Differences(Read("architectures/sd15-unet"), Read("architectures/sd-vae")));

        Assert.Equal("_class_name: 'UNet2DConditionModel' expected, 'AutoencoderKL' found", difference.ToString());
    }

    [Fact]
    public void Torch_dtype_is_how_weights_were_saved_and_is_not_compared()
    {
        var json = new FixtureModel("clip-text-tiny").ReadText("config.json");
        var float32 = ArchitectureDescription.Parse(json, "a").Config;
        var float16 = ArchitectureDescription.Parse(json.Replace("\"float32\"", "\"float16\""), "b").Config;

        Assert.Empty(ConfigComparer.Differences(float32, float16));
        Assert.Empty(ConfigComparer.Differences(Read("architectures/sd15-unet"), Read("architectures/sd15-unet")));
    }

    [Theory]
    [InlineData("ActFn", "act_fn")]
    [InlineData("LayerNormEps", "layer_norm_eps")]
    [InlineData("InChannels", "in_channels")]
    public void Key_is_the_snake_case_of_the_property(string property, string key)
    {
        Assert.Equal(key, ConfigComparer.KeyOf(property));
    }
}
