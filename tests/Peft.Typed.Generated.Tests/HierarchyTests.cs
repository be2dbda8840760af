using Peft.Typed.Generated.Tests.Support;
using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Typed;
using Peft.Typed.Models.Unet;

namespace Peft.Typed.Generated.Tests;

/// <summary>
/// The typed hierarchy as app code writes it: paths lead to the runtime modules of those paths, and a list of unlike
/// blocks has one property per element, typed to what that element has, so its members need no <c>!</c>.
/// </summary>
public sealed class HierarchyTests
{
    [Fact]
    public void Typed_path_returns_the_runtime_module_of_that_path()
    {
        using var unet = TinyUnet.Create(LayerFactory.Meta);

        var attention = unet.DownBlocks.Block1.Attentions[0].TransformerBlocks[0].Attn2;

        Assert.Equal("down_blocks.1.attentions.0.transformer_blocks.0.attn2", attention.Path);
        Assert.Equal(FixtureModules.KindOf("unet-tiny", attention.Path), attention.ClassName);
        Assert.IsType<Attention>(attention.Module);
        Assert.Same(unet.ModuleAt(attention.ToK.Path), attention.ToK.Layer);
        Assert.IsType<UNet2DConditionModel>(unet.Model);
    }

    [Fact]
    public void Indexer_of_unlike_blocks_returns_their_common_view_where_a_member_is_null_if_the_block_lacks_it()
    {
        using var unet = TinyUnet.Create(LayerFactory.Meta);
        var modules = FixtureModules.Of("unet-tiny").Select(m => m.Name).ToHashSet();

        for (int i = 0; i < unet.DownBlocks.Count; i++)
            Assert.Equal(modules.Contains($"down_blocks.{i}.attentions"), unet.DownBlocks[i].Attentions is not null);
    }

    [Fact]
    public void Element_properties_of_the_tiny_unet_are_its_blocks_with_their_classes()
    {
        using var unet = TinyUnet.Create(LayerFactory.Meta);

        AssertElements("unet-tiny", "down_blocks", [unet.DownBlocks.Block0, unet.DownBlocks.Block1]);
        AssertElements("unet-tiny", "up_blocks", [unet.UpBlocks.Block0, unet.UpBlocks.Block1]);
        // No '!': the config says down block 1 and up block 0 have attentions, and the up block 0 an upsampler.
        Assert.Equal("down_blocks.1.attentions.0", unet.DownBlocks.Block1.Attentions[0].Path);
        Assert.Equal("up_blocks.0.upsamplers.0.conv", unet.UpBlocks.Block0.Upsamplers[0].Conv.Path);
        Assert.IsType<CrossAttnDownBlock2D>(unet.DownBlocks.Block1.Module);
        Assert.IsType<DownBlock2D>(unet.DownBlocks.Block0.Module);
    }

    [Fact]
    public void Element_properties_of_sd15_type_each_block_by_what_it_has()
    {
        using var unet = Sd15Unet.Create(LayerFactory.Meta);
        var modules = FixtureModules.Of("architectures/sd15-unet").Select(m => m.Name).ToHashSet();

        AssertElements("architectures/sd15-unet", "down_blocks", [unet.DownBlocks.Block0, unet.DownBlocks.Block1, unet.DownBlocks.Block2, unet.DownBlocks.Block3]);
        AssertElements("architectures/sd15-unet", "up_blocks", [unet.UpBlocks.Block0, unet.UpBlocks.Block1, unet.UpBlocks.Block2, unet.UpBlocks.Block3]);
        // The up blocks 1 and 2 upsample, the last does not: the properties say so in their types.
        Assert.Contains(unet.UpBlocks.Block2.Upsamplers[0].Conv.Path, modules);
        Assert.Contains(unet.UpBlocks.Block3.Attentions[2].ProjOut.Path, modules);
        Assert.DoesNotContain(typeof(Sd15Unet.CrossAttnUpBlock2DWithoutUpsamplersView).GetProperties(), p => p.Name == "Upsamplers");
        Assert.DoesNotContain("up_blocks.3.upsamplers", modules);
    }

    [Fact]
    public void Element_properties_of_sdxl_type_each_block_by_what_it_has()
    {
        using var unet = SdxlUnet.Create(LayerFactory.Meta);
        var modules = FixtureModules.Of("architectures/sdxl-base-unet").Select(m => m.Name).ToHashSet();

        AssertElements("architectures/sdxl-base-unet", "down_blocks", [unet.DownBlocks.Block0, unet.DownBlocks.Block1, unet.DownBlocks.Block2]);
        AssertElements("architectures/sdxl-base-unet", "up_blocks", [unet.UpBlocks.Block0, unet.UpBlocks.Block1, unet.UpBlocks.Block2]);
        Assert.Contains(unet.DownBlocks.Block1.Downsamplers[0].Conv.Path, modules);
        Assert.Contains(unet.DownBlocks.Block2.Attentions[1].TransformerBlocks[9].Attn2.ToK.Path, modules);
    }

    [Fact]
    public void List_view_rejects_an_index_past_its_end()
    {
        using var unet = TinyUnet.Create(LayerFactory.Meta);
        var count = FixtureModules.ElementsOf("unet-tiny", "down_blocks").Count;

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => unet.DownBlocks[count]);

        Assert.StartsWith($"'down_blocks' has {count} elements.", error.Message);
    }

    [Fact]
    public void Text_encoder_layers_are_typed_down_to_the_projections()
    {
        using var clip = TinyClipText.Create(LayerFactory.Meta);
        var weights = FixtureModules.TensorNames("clip-text-tiny", "model.safetensors")
            .Where(n => n.StartsWith("text_model.encoder.layers.", StringComparison.Ordinal) && n.EndsWith(".self_attn.q_proj.weight", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

        Assert.Equal(weights, clip.TextModel.Encoder.Layers.Select(l => l.SelfAttn.QProj.Path + ".weight").Order(StringComparer.Ordinal));
    }

    /// <summary>The element properties are the list's elements in order, each of the class modules.json gives it.</summary>
    private static void AssertElements(string folder, string list, IReadOnlyList<ModuleView> elements)
    {
        var expected = FixtureModules.ElementsOf(folder, list);
        Assert.Equal(expected.Select(e => e.Name), elements.Select(e => e.Path));
        Assert.Equal(expected.Select(e => e.Kind), elements.Select(e => e.ClassName));
    }
}
