using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Models.Layers;

namespace Peft.Typed.Generated.Tests;

/// <summary><c>Config</c> is parsed from the baked-in config.json once; each access is a copy a caller may change freely.</summary>
public sealed class ConfigTests
{
    [Fact]
    public void Config_equals_the_baked_config_json()
    {
        var parsed = ArchitectureDescription.Parse<UNet2DConditionConfig>(TinyUnet.ConfigJson, "expected");

        Assert.Empty(ConfigComparer.Differences(parsed, TinyUnet.Config));
    }

    [Fact]
    public void Each_access_is_a_new_copy_so_changing_one_changes_nothing_else()
    {
        var first = TinyUnet.Config;
        var second = TinyUnet.Config;
        var original = first.CrossAttentionDim;

        first.CrossAttentionDim = original.ScalarValue + 1;

        Assert.NotSame(first, second);
        Assert.Equal(original, second.CrossAttentionDim);
        Assert.Equal(original, TinyUnet.Config.CrossAttentionDim);
        using var unet = TinyUnet.Create(LayerFactory.Meta);
        Assert.Equal(original, unet.Model.Config.CrossAttentionDim);
    }
}
