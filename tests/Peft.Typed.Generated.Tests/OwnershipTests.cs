using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Typed;
using Peft.Typed.Models.Unet;
using Peft.Typed.Testing;

namespace Peft.Typed.Generated.Tests;

/// <summary>
/// <c>Create</c> and <c>FromPretrained</c> make a model the typed class owns and disposes; <c>Wrap</c> gives a typed
/// view of the caller's model and leaves it alone when disposed.
/// </summary>
public sealed class OwnershipTests
{
    [Fact]
    public void Wrap_does_not_dispose_the_model_it_was_given()
    {
        using var model = new UNet2DConditionModel(TinyUnet.Config);
        var weight = model.parameters().First();

        using (var unet = TinyUnet.Wrap(model))
        {
            Assert.False(unet.OwnsModel);
            Assert.Same(model, unet.Model);
            Assert.Same(model, unet.RootModule);
        }

        Assert.False(weight.IsInvalid);
        Assert.Equal(TinyUnet.Targets.Modules.Count, model.named_modules().Count() + 1);
    }

    [Fact]
    public void Create_owns_the_model_and_disposes_it()
    {
        var unet = TinyUnet.Create();
        var weight = unet.Model.parameters().First();
        Assert.True(unet.OwnsModel);

        unet.Dispose();

        Assert.True(weight.IsInvalid);
        Assert.Throws<ObjectDisposedException>(() => unet.ModuleAt("conv_in"));
    }

    [Fact]
    public void FromPretrained_owns_the_loaded_model()
    {
        using var unet = TinyUnet.FromPretrained(Fixtures.PathOf("unet-tiny"));

        Assert.True(unet.OwnsModel);
    }

    [Fact]
    public void Wrapping_a_model_of_another_architecture_is_refused()
    {
        var sd15Config = ArchitectureDescription.Parse<UNet2DConditionConfig>(File.ReadAllText(Fixtures.PathOf("architectures", "sd15-unet", "config.json")), "sd15");
        using var model = new UNet2DConditionModel(sd15Config, LayerFactory.Meta);

        var error = Assert.Throws<TypedModelConfigException>(() => TinyUnet.Wrap(model));

        Assert.StartsWith("The UNet2DConditionModel given does not match TinyUnet, which was generated from another config.json: sample_size is 64, TinyUnet has 32; ", error.Message);
        Assert.Contains("cross_attention_dim is 768, TinyUnet has 32", error.Message);
        Assert.Equal(ConfigComparer.Differences(TinyUnet.Config, sd15Config).Select(d => d.Key), error.Differences.Select(d => d.Key));
    }
}
