using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters.Formats.Kohya;
using Peft.Typed.Testing;

namespace Peft.Typed.Models.Tests.Adapters.Formats;

/// <summary>
/// Kohya names over the full-size UNets in ../shared/fixtures/architectures: every adaptable module has a unique
/// kohya name and an original-SD (A1111) name, and both map back to it.
/// </summary>
public sealed class KohyaNameMappingTests
{
    public static TheoryData<string> Unets()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(Fixtures.PathOf("architectures")).Order(StringComparer.Ordinal))
        {
            if (Path.GetFileName(dir).EndsWith("-unet", StringComparison.Ordinal)) data.Add(Path.GetFileName(dir));
        }
        return data;
    }

    private static ModuleCatalog Catalog(string architecture)
    {
        var path = Fixtures.PathOf("architectures", architecture, "config.json");
        return ModuleCatalog.FromTree("unet", ArchitectureDescription.Parse(File.ReadAllText(path), path).BuildTree());
    }

    [Theory]
    [MemberData(nameof(Unets))]
    public void Every_adaptable_module_maps_to_unique_kohya_names_and_back(string architecture)
    {
        var catalog = Catalog(architecture);
        var names = new KohyaModuleNames("unet", catalog);
        var adaptable = catalog.Modules.Where(m => m.Name.Length > 0 && ModuleCatalog.IsAdaptableKind(m.Kind)).Select(m => m.Name).ToList();
        Assert.NotEmpty(adaptable);
        Assert.Empty(names.Ambiguous);

        var unmapped = adaptable.Where(m => !names.OriginalSdNames.ContainsKey(m)).ToList();
        Assert.True(unmapped.Count == 0, $"{unmapped.Count} module(s) without an original SD name: {string.Join(", ", unmapped.Take(5))}");
        Assert.Equal(adaptable.Count, adaptable.Select(names.NameOf).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(adaptable.Count, names.OriginalSdNames.Values.Distinct(StringComparer.Ordinal).Count());
        foreach (var module in adaptable)
        {
            Assert.Equal(module, names.ModuleOf(names.NameOf(module)));
            Assert.Equal(module, names.ModuleOf(KohyaModuleNames.NameOf("lora_unet", names.OriginalSdNames[module])));
        }
        // Every accepted name is one of the two spellings of an adaptable module.
        Assert.Equal(2 * adaptable.Count, names.Modules.Count);
    }

    /// <summary>The layout kohya-ss model_util writes (input_blocks 3·i + j + 1, output_blocks 3·i + j, ...), checked where it is known.</summary>
    [Theory]
    [InlineData("sd15-unet", "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q", "input_blocks.4.1.transformer_blocks.0.attn1.to_q")]
    [InlineData("sd15-unet", "down_blocks.3.resnets.1.conv1", "input_blocks.11.0.in_layers.2")]
    [InlineData("sd15-unet", "down_blocks.0.downsamplers.0.conv", "input_blocks.3.0.op")]
    [InlineData("sd15-unet", "mid_block.resnets.1.conv2", "middle_block.2.out_layers.3")]
    [InlineData("sd15-unet", "mid_block.attentions.0.proj_in", "middle_block.1.proj_in")]
    [InlineData("sd15-unet", "up_blocks.0.upsamplers.0.conv", "output_blocks.2.1.conv")]
    [InlineData("sd15-unet", "up_blocks.1.upsamplers.0.conv", "output_blocks.5.2.conv")]
    [InlineData("sd15-unet", "up_blocks.3.attentions.2.transformer_blocks.0.ff.net.2", "output_blocks.11.1.transformer_blocks.0.ff.net.2")]
    [InlineData("sd15-unet", "up_blocks.1.resnets.0.conv_shortcut", "output_blocks.3.0.skip_connection")]
    [InlineData("sd15-unet", "time_embedding.linear_2", "time_embed.2")]
    [InlineData("sd15-unet", "conv_in", "input_blocks.0.0")]
    [InlineData("sd15-unet", "conv_out", "out.2")]
    [InlineData("sd21-unet", "down_blocks.2.resnets.0.time_emb_proj", "input_blocks.7.0.emb_layers.1")]
    [InlineData("sdxl-base-unet", "down_blocks.2.attentions.1.transformer_blocks.9.attn2.to_k", "input_blocks.8.1.transformer_blocks.9.attn2.to_k")]
    [InlineData("sdxl-base-unet", "down_blocks.1.downsamplers.0.conv", "input_blocks.6.0.op")]
    [InlineData("sdxl-base-unet", "up_blocks.0.upsamplers.0.conv", "output_blocks.2.2.conv")]
    [InlineData("sdxl-base-unet", "up_blocks.2.resnets.2.conv2", "output_blocks.8.0.out_layers.3")]
    [InlineData("sdxl-base-unet", "add_embedding.linear_1", "label_emb.0.0")]
    public void Original_sd_names_follow_the_kohya_layout(string architecture, string module, string original)
    {
        var names = new KohyaModuleNames("unet", Catalog(architecture));
        Assert.Equal(original, names.OriginalSdNames[module]);
    }
}
