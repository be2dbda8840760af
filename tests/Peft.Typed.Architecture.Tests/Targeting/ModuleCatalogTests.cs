using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Architecture.Tests.Support;

namespace Peft.Typed.Architecture.Tests.Targeting;

/// <summary>Leaf names, scope names and PEFT-style selection over the reference module lists (modules.json).</summary>
public sealed class ModuleCatalogTests
{
    internal static ModuleCatalog Sd15() => FromFixture("architectures/sd15-unet", "Sd15Unet");

    internal static ModuleCatalog FromFixture(string folder, string name) =>
        new(name, new FixtureModel(folder).Modules().Select(m => new ModuleEntry(m.Path, m.ClassName)).ToArray());

    private static ModuleCatalog TinyClip() =>
        ModuleCatalog.FromTree("TinyClipText", ArchitectureDescription.Parse(File.ReadAllText(Peft.Typed.Testing.Fixtures.PathOf("clip-text-tiny", "config.json")), "clip").BuildTree());

    [Fact]
    public void Unet_leaf_names_are_the_names_peft_users_write_in_registration_order()
    {
        Assert.Equal(
            ["conv_in", "linear_1", "linear_2", "proj_in", "to_q", "to_k", "to_v", "to_out.0", "ff.net.0.proj", "ff.net.2", "proj_out",
             "conv1", "time_emb_proj", "conv2", "downsamplers.0.conv", "conv_shortcut", "upsamplers.0.conv", "conv_out"],
            Sd15().LeafNames);
    }

    [Fact]
    public void Text_encoder_leaf_and_scope_names_follow_transformers()
    {
        var clip = TinyClip();

        Assert.Equal(["k_proj", "v_proj", "q_proj", "out_proj", "fc1", "fc2"], clip.LeafNames);
        Assert.Equal(["text_model", "encoder", "layers", "self_attn", "mlp"], clip.ScopeNames);
    }

    [Fact]
    public void Unet_scopes_are_the_blocks_and_attentions_but_not_positional_lists()
    {
        Assert.Equal(
            ["time_embedding", "down_blocks", "attentions", "transformer_blocks", "attn1", "attn2", "ff", "resnets", "downsamplers", "up_blocks", "upsamplers", "mid_block"],
            Sd15().ScopeNames);
    }

    [Fact]
    public void All_is_every_linear_and_conv2d_of_modules_json()
    {
        var modules = new FixtureModel("architectures/sd15-unet").Modules();

        Assert.Equal(modules.Where(m => m.ClassName is "Linear" or "Conv2d").Select(m => m.Path), Sd15().All.Names);
    }

    [Theory]
    [InlineData("to_q", 32)]
    [InlineData("to_out.0", 32)]
    [InlineData("ff.net.0.proj", 16)]
    [InlineData("conv_shortcut", 14)]
    [InlineData("downsamplers.0.conv", 3)]
    public void Leaf_selects_what_the_peft_list_entry_selects(string leaf, int count)
    {
        var catalog = Sd15();
        var modules = new FixtureModel("architectures/sd15-unet").Modules();

        var set = catalog.Leaf(leaf);

        Assert.Equal(count, set.Count);
        Assert.Equal(modules.Where(m => m.Path == leaf || m.Path.EndsWith("." + leaf, StringComparison.Ordinal)).Select(m => m.Path), set.Names);
    }

    [Fact]
    public void Named_keeps_every_class_peft_would_match_and_the_dead_entries()
    {
        var set = Sd15().Named(["to_q", "norm1", "query"]);

        Assert.Equal(["GroupNorm", "LayerNorm", "Linear"], set.Select(m => m.Kind).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal("query", Assert.Single(set.Unmatched).Entry);
    }

    [Fact]
    public void Named_list_matching_nothing_throws_with_suggestions()
    {
        var error = Assert.Throws<ArgumentException>(() => Sd15().Named(["to_qq", "conv_shortcutt"]));

        Assert.Equal(
            "No module of Sd15Unet matches the list: target_modules entry 'to_qq' matches no module; did you mean 'to_q'? "
            + "target_modules entry 'conv_shortcutt' matches no module; did you mean 'conv_shortcut'? (Parameter 'names')",
            error.Message);
    }

    [Fact]
    public void Matching_is_a_full_match_regex_unlike_a_list_entry_and_all_linear_is_the_linear_layers()
    {
        var catalog = Sd15();

        Assert.Equal(4, catalog.Matching(@"down_blocks\.0\..*\.to_q").Count);
        Assert.Throws<ArgumentException>(() => catalog.Matching("to_q"));
        Assert.Equal(catalog.OfKind("Linear"), catalog.Matching("ALL-LINEAR"));
    }

    [Fact]
    public void Matching_nothing_or_a_malformed_regex_throws()
    {
        var nothing = Assert.Throws<ArgumentException>(() => Sd15().Matching("to_z"));
        var malformed = Assert.Throws<ArgumentException>(() => Sd15().Matching("to_(q"));

        Assert.Equal("The regex 'to_z' matches no module of Sd15Unet. (Parameter 'pattern')", nothing.Message);
        Assert.StartsWith("'to_(q' is not a valid regular expression: ", malformed.Message);
    }

    [Fact]
    public void Seed_presets_select_the_scripts_modules()
    {
        var catalog = Sd15();

        var minimal = catalog.Preset(SeedTargetLists.UnetMinimal);
        var comprehensive = catalog.Preset(SeedTargetLists.UnetComprehensive);

        Assert.Equal(catalog.Leaf("to_q") | catalog.Leaf("to_v"), minimal);
        Assert.Equal(catalog.All - (catalog.Leaf("conv_in") | catalog.Leaf("conv_out") | catalog.Leaf("linear_1") | catalog.Leaf("linear_2")), comprehensive);
        Assert.Empty(comprehensive.Unmatched);
    }

    [Fact]
    public void Preset_keeps_entries_that_match_nothing_as_peft_would_ignore_them()
    {
        var catalog = Sd15();

        var asWritten = catalog.Preset(["to_q", "to_v", "query", "value"]);

        Assert.Equal(catalog.Preset(SeedTargetLists.UnetMinimal), asWritten);
        Assert.Equal(["query", "value"], asWritten.Unmatched.Select(u => u.Entry));
    }

    [Fact]
    public void Unknown_scope_name_throws_with_the_closest_scope()
    {
        var error = Assert.Throws<ArgumentException>(() => Sd15().Scope("atn2"));

        Assert.Equal("No module of Sd15Unet is named 'atn2'; did you mean 'attn2'? (Parameter 'name')", error.Message);
    }
}
