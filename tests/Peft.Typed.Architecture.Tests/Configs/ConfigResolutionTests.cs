using System.Text.Json;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Tests.Support;

namespace Peft.Typed.Architecture.Tests.Configs;

/// <summary>
/// Published configs omit many keys; reading them must apply the diffusers 0.27.2 defaults, i.e. give the
/// values of config.resolved.json (what diffusers writes back after loading the same file).
/// </summary>
public sealed class ConfigResolutionTests
{
    [Theory]
    [MemberData(nameof(FixtureFolders.WithResolvedConfigData), MemberType = typeof(FixtureFolders))]
    public void Published_config_reads_as_every_value_of_the_resolved_config(string folder)
    {
        var model = new FixtureModel(folder);
        var config = ArchitectureDescription.Parse(model.ReadText("config.json"), model.PathOf("config.json")).Config;
        using var resolved = JsonDocument.Parse(model.ReadText("config.resolved.json"));
        var mismatches = new List<string>();

        foreach (var entry in resolved.RootElement.EnumerateObject().Where(e => !e.Name.StartsWith('_')))
        {
            var property = config.GetType().GetProperty(ConfigProperties.PropertyName(entry.Name));
            if (property is null)
            {
                mismatches.Add($"{entry.Name}: no property {ConfigProperties.PropertyName(entry.Name)}");
                continue;
            }
            var expected = ConfigProperties.Canonical(entry.Value);
            var actual = ConfigProperties.Canonical(property.GetValue(config));
            if (expected != actual) mismatches.Add($"{entry.Name}: {actual}, expected {expected}");
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Theory]
    [MemberData(nameof(FixtureFolders.WithResolvedConfigData), MemberType = typeof(FixtureFolders))]
    public void Every_config_property_is_a_key_of_the_resolved_config(string folder)
    {
        var model = new FixtureModel(folder);
        var config = ArchitectureDescription.Parse(model.ReadText("config.json"), model.PathOf("config.json")).Config;
        using var resolved = JsonDocument.Parse(model.ReadText("config.resolved.json"));
        var keys = resolved.RootElement.EnumerateObject().Select(e => ConfigProperties.PropertyName(e.Name.TrimStart('_'))).ToHashSet();

        var extra = ConfigProperties.OptionProperties(config.GetType()).Select(p => p.Name).Where(name => !keys.Contains(name));

        Assert.Empty(extra);
    }

    [Theory]
    [MemberData(nameof(FixtureFolders.WithResolvedConfigData), MemberType = typeof(FixtureFolders))]
    public void Published_and_resolved_configs_parse_to_equal_configs(string folder)
    {
        var model = new FixtureModel(folder);
        var published = ArchitectureDescription.Parse(model.ReadText("config.json"), "config.json").Config;
        var resolved = ArchitectureDescription.Parse(model.ReadText("config.resolved.json"), "config.resolved.json").Config;

        Assert.Equal(resolved.GetType(), published.GetType());
        foreach (var property in ConfigProperties.OptionProperties(published.GetType()))
        {
            Assert.True(
                ConfigProperties.Canonical(property.GetValue(resolved)) == ConfigProperties.Canonical(property.GetValue(published)),
                $"{property.Name}: published {ConfigProperties.Canonical(property.GetValue(published))}, resolved {ConfigProperties.Canonical(property.GetValue(resolved))}");
        }
    }

    [Fact]
    public void Sdxl_config_keeps_lists_and_text_time_values()
    {
        var model = new FixtureModel("architectures/sdxl-base-unet");
        var config = ArchitectureDescription.Parse<UNet2DConditionConfig>(model.ReadText("config.json"), "config.json");

        Assert.Equal(ScalarOrList<int>.List([5, 10, 20]), config.AttentionHeadDim);
        Assert.Equal(ScalarOrList<int>.List([1, 2, 10]), config.TransformerLayersPerBlock);
        Assert.Equal(10, config.TransformerLayersPerBlock.ForMidBlock());
        Assert.Equal(20, config.AttentionHeadDim.ForUpBlock(0));
        Assert.Equal("text_time", config.AdditionEmbedType);
        Assert.Equal(256, config.AdditionTimeEmbedDim);
        Assert.Equal(2816, config.ProjectionClassEmbeddingsInputDim);
        Assert.Null(config.UpcastAttention);
    }

    [Fact]
    public void Vae_defaults_follow_the_autoencoder_kl_signature()
    {
        var config = ArchitectureDescription.Parse<AutoencoderKLConfig>("""{ "_class_name": "AutoencoderKL" }""", "vae/config.json");

        Assert.Equal(["DownEncoderBlock2D"], config.DownBlockTypes);
        Assert.Equal(["UpDecoderBlock2D"], config.UpBlockTypes);
        Assert.Equal([64], config.BlockOutChannels);
        Assert.Equal(1, config.LayersPerBlock);
        Assert.Equal(0.18215, config.ScalingFactor);
        Assert.True(config.ForceUpcast);
        Assert.Null(config.LatentsMean);
        Assert.Equal(ScalarOrList<int>.Scalar(32), config.SampleSize);
    }
}
