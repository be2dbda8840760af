using Peft.Typed.Architecture.Configs;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Loading;
using Peft.Typed.Models.Tests.Support;
using Peft.Typed.Models.Unet;
using Peft.Typed.Models.Vae;
using Peft.Typed.Testing;
using TorchSharp;

namespace Peft.Typed.Models.Tests.Architectures;

/// <summary>
/// The real Stable Diffusion models built on the meta device from their published config.json (no weights allocated):
/// parameter names and shapes equal the fixture's parameters.json, module paths and classes its modules.json.
/// </summary>
public class RealArchitectureTests
{
    [Theory]
    [InlineData("sd15-unet", 859_520_964L)]
    [InlineData("sd21-unet", 865_910_724L)]
    [InlineData("sdxl-base-unet", 2_567_463_684L)]
    public void UNet_matches_the_diffusers_listing(string folder, long parameterCount)
    {
        using var model = new UNet2DConditionModel(Config<UNet2DConditionConfig>(folder), LayerFactory.Meta);
        AssertListings(folder, model, parameterCount);
    }

    [Theory]
    [InlineData("sd-vae")]
    [InlineData("sdxl-vae")]
    public void AutoencoderKL_matches_the_diffusers_listing(string folder)
    {
        using var model = new AutoencoderKL(Config<AutoencoderKLConfig>(folder), LayerFactory.Meta);
        AssertListings(folder, model, 83_653_863L);
    }

    [Fact]
    public void SDXL_text_encoders_have_their_published_sizes()
    {
        // openai/clip-vit-large-patch14 text tower (SD 1.x, SDXL text_encoder) and OpenCLIP bigG (SDXL text_encoder_2).
        var large = new ClipTextConfig { HiddenSize = 768, IntermediateSize = 3072, NumAttentionHeads = 12, NumHiddenLayers = 12, ProjectionDim = 768 };
        var bigG = new ClipTextConfig
        {
            Architectures = ["CLIPTextModelWithProjection"], HiddenSize = 1280, IntermediateSize = 5120, NumAttentionHeads = 20,
            NumHiddenLayers = 32, ProjectionDim = 1280, HiddenAct = "gelu",
        };
        using var textEncoder = new CLIPTextModel(large, LayerFactory.Meta);
        using var textEncoder2 = new CLIPTextModelWithProjection(bigG, LayerFactory.Meta);

        Assert.Equal(123_060_480L, ParameterCount(textEncoder));
        Assert.Equal(694_659_840L, ParameterCount(textEncoder2));
        Assert.Equal(textEncoder.Tree.Parameters.Select(p => $"{p.Name} [{string.Join(", ", p.Spec.Shape)}]"), FixtureListings.Parameters(textEncoder));
        Assert.Equal(textEncoder2.Tree.Parameters.Select(p => $"{p.Name} [{string.Join(", ", p.Spec.Shape)}]"), FixtureListings.Parameters(textEncoder2));
    }

    private static void AssertListings(string folder, torch.nn.Module model, long parameterCount)
    {
        Assert.All(model.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
        Assert.Equal(FixtureListings.Parameters(Fixtures.PathOf("architectures", folder, "parameters.json")), FixtureListings.Parameters(model));
        Assert.Equal(FixtureListings.Modules(Fixtures.PathOf("architectures", folder, "modules.json")), FixtureListings.Modules(model));
        Assert.Equal(parameterCount, ParameterCount(model));
    }

    private static long ParameterCount(torch.nn.Module model) => model.parameters().Sum(p => p.numel());

    private static TConfig Config<TConfig>(string folder) where TConfig : ArchitectureConfig =>
        PretrainedFolder.ReadConfig<TConfig>(Fixtures.PathOf("architectures", folder));
}
