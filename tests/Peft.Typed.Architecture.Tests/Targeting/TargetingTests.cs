using Peft.Typed.Architecture.Targeting;

namespace Peft.Typed.Architecture.Tests.Targeting;

/// <summary>PEFT 0.20.0's string rules for target_modules, exclude_modules, modules_to_save and rank/alpha patterns.</summary>
public sealed class TargetingTests
{
    private static readonly ModuleEntry[] Modules =
    [
        new("unet", "TinyUNet"),
        new("unet.conv_in", "Conv2d"),
        new("unet.down_block.resnets.0.norm1", "GroupNorm"),
        new("unet.down_block.resnets.0.conv1", "Conv2d"),
        new("unet.down_block.attentions.0.transformer_blocks.0.attn1.to_q", "Linear"),
        new("unet.down_block.attentions.0.transformer_blocks.0.attn1.to_out.0", "Linear"),
        new("unet.down_block.attentions.0.transformer_blocks.0.attn1.to_out.1", "Dropout"),
        new("unet.down_block.downsamplers.0.conv", "Conv2d"),
        new("text_encoder.layers.0.self_attn.v_proj", "Linear"),
        new("text_encoder.layers.0.mlp.fc1", "Linear"),
    ];

    private static readonly string[] LinearAndConv = ["Linear", "Conv2d"];

    [Theory]
    [InlineData("conv", "unet.down_block.downsamplers.0.conv", true)]
    [InlineData("conv", "unet.conv_in", false)]
    [InlineData("conv", "unet.down_block.resnets.0.conv1", false)]
    [InlineData("to_out.0", "unet.down_block.attentions.0.transformer_blocks.0.attn1.to_out.0", true)]
    [InlineData("attn1.to_q", "unet.down_block.attentions.0.transformer_blocks.0.attn1.to_q", true)]
    [InlineData("n1.to_q", "unet.down_block.attentions.0.transformer_blocks.0.attn1.to_q", false)]
    [InlineData("unet.conv_in", "unet.conv_in", true)]
    public void A_list_entry_matches_the_whole_name_or_a_dot_suffix(string entry, string name, bool expected) =>
        Assert.Equal(expected, TargetModules.FromNames(entry).MatchesName(name));

    [Theory]
    [InlineData(@".*\.to_q", "unet.down_block.attentions.0.transformer_blocks.0.attn1.to_q", true)]
    [InlineData(@"to_q", "unet.down_block.attentions.0.transformer_blocks.0.attn1.to_q", false)]
    [InlineData(@".*conv", "unet.conv_in", false)]
    [InlineData(@"unet\..*conv.*", "unet.conv_in", true)]
    [InlineData(@"a|unet\.conv_in", "unet.conv_in", true)]
    public void A_regex_must_match_the_whole_name(string pattern, string name, bool expected) =>
        Assert.Equal(expected, TargetModules.FromPattern(pattern).MatchesName(name));

    [Fact]
    public void All_linear_selects_linear_modules_in_any_case()
    {
        var targets = TargetModules.FromPattern("All-Linear");
        Assert.Equal(TargetModulesKind.AllLinear, targets.Kind);
        var selection = TargetSelector.Select(Modules, targets, null, null, LinearAndConv);
        Assert.Equal(["unet.down_block.attentions.0.transformer_blocks.0.attn1.to_q", "unet.down_block.attentions.0.transformer_blocks.0.attn1.to_out.0",
            "text_encoder.layers.0.self_attn.v_proj", "text_encoder.layers.0.mlp.fc1"], selection.Targeted.Select(m => m.Name));
        Assert.Equal(TargetModulesKind.Regex, TargetModules.FromRegex("all-linear").Kind);
    }

    [Fact]
    public void Selection_applies_exclusions_modules_to_save_and_reports_unsupported_and_unmatched()
    {
        var selection = TargetSelector.Select(Modules, TargetModules.FromNames("conv", "conv1", "fc1", "norm1", "to_qq", "v_proj"),
            TargetModules.FromRegex(@".*\.conv1"), ["v_proj"], LinearAndConv);
        Assert.Equal(["unet.down_block.downsamplers.0.conv", "text_encoder.layers.0.mlp.fc1"], selection.Targeted.Select(m => m.Name));
        Assert.Equal(["unet.down_block.resnets.0.conv1", "text_encoder.layers.0.self_attn.v_proj"], selection.Excluded);
        Assert.Equal(["unet.down_block.resnets.0.norm1"], selection.Unsupported.Select(m => m.Name));
        var typo = Assert.Single(selection.Unmatched);
        Assert.Equal("to_qq", typo.Entry);
        Assert.Equal("to_q", typo.Suggestion);
        Assert.Equal("target_modules entry 'to_qq' matches no module; did you mean 'to_q'?", typo.Message);
    }

    [Fact]
    public void Suggestions_come_from_adaptable_modules_only_and_prefer_short_names()
    {
        var unmatched = TargetSelector.FindUnmatched(Modules, TargetModules.FromNames("norm", "attn1.to_g", "5", "xyz"), LinearAndConv);
        Assert.Equal([("norm", "conv"), ("attn1.to_g", "attn1.to_q"), ("5", "fc1"), ("xyz", "fc1")], unmatched.Select(u => (u.Entry, u.Suggestion!)));
        Assert.Empty(TargetSelector.FindUnmatched(Modules, TargetModules.FromPattern("nothing"), LinearAndConv));
    }

    [Theory]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("to_q", "to_q", 0)]
    [InlineData("", "abc", 3)]
    [InlineData("to_qq", "to_q", 1)]
    [InlineData("q_prj", "q_proj", 1)]
    public void Edit_distance_is_levenshtein(string a, string b, int distance) => Assert.Equal(distance, ClosestName.EditDistance(a, b));

    [Fact]
    public void Suffixes_start_after_each_dot() =>
        Assert.Equal(["to_q", "attn1.to_q"], ClosestName.Suffixes("attn1.to_q"));

    [Fact]
    public void Suffixes_never_start_with_a_list_index() =>
        Assert.Equal(["to_out.0", "attn1.to_out.0", "blocks.0.attn1.to_out.0"], ClosestName.Suffixes("blocks.0.attn1.to_out.0"));

    [Fact]
    public void Old_attention_name_is_renamed_when_the_model_has_the_new_name()
    {
        var unmatched = TargetSelector.FindUnmatched(Modules, TargetModules.FromNames("query", "attn1.proj_attn", "key"), LinearAndConv);

        Assert.Equal([("query", "to_q"), ("attn1.proj_attn", "attn1.to_out.0")], unmatched.Where(u => u.IsRenamed).Select(u => (u.Entry, u.RenamedTo!)));
        Assert.Equal("target_modules entry 'query' matches no module: diffusers renamed the attention projection 'query' to 'to_q'.", unmatched[0].Message);
        Assert.Equal("target_modules entry 'attn1.proj_attn' matches no module: diffusers renamed the attention projection 'proj_attn' to 'to_out.0'; write 'attn1.to_out.0'.",
            unmatched[1].Message);
        // 'to_k' is not in this model: 'key' is an ordinary unknown name, with an ordinary suggestion.
        Assert.False(unmatched[2].IsRenamed);
        Assert.Null(unmatched[2].RenamedTo);
        Assert.StartsWith("target_modules entry 'key' matches no module; did you mean '", unmatched[2].Message);
    }

    [Fact]
    public void Pattern_keys_resolve_by_first_match_with_regex_dots()
    {
        string[] keys = ["fc1", "self_attn.v_proj", "proj"];
        Assert.Equal("fc1", PatternKeys.Resolve(keys, "text_encoder.layers.0.mlp.fc1"));
        Assert.Equal("self_attn.v_proj", PatternKeys.Resolve(keys, "text_encoder.layers.0.self_attn.v_proj"));
        Assert.Equal("self_attn.v_proj", PatternKeys.Resolve(keys, "x.self_attnXv_proj"));
        Assert.Equal("proj", PatternKeys.Resolve(keys, "text_encoder.layers.0.self_attn.q_proj.proj"));
        Assert.Null(PatternKeys.Resolve(keys, "text_encoder.layers.0.self_attn.q_proj"));
        Assert.Null(PatternKeys.Resolve(keys, "text_encoder.layers.0.mlp.fc10"));
        Assert.Equal("fc1", PatternKeys.Resolve(["fc1", "mlp.fc1"], "mlp.fc1"));
        Assert.Equal(8, PatternKeys.ValueFor([new KeyValuePair<string, int>("v_proj", 8)], "self_attn.v_proj", 4));
        Assert.Equal(4, PatternKeys.ValueFor([new KeyValuePair<string, int>("v_proj", 8)], "self_attn.k_proj", 4));
    }

    [Fact]
    public void Modules_to_save_match_plain_suffixes_and_shield_their_insides()
    {
        Assert.True(ModulesToSaveMatcher.IsSaved(["classifier"], "model.my_classifier"));
        Assert.False(ModulesToSaveMatcher.IsSaved(["classifier"], "model.classifier.dense"));
        Assert.True(ModulesToSaveMatcher.ShieldsFromAdapters(["classifier"], "model.classifier.dense"));
        Assert.True(ModulesToSaveMatcher.ShieldsFromAdapters(["classifier"], "classifier"));
        Assert.False(ModulesToSaveMatcher.ShieldsFromAdapters(["classifier"], "model.my_classifier"));
    }

    [Fact]
    public void Invalid_regexes_and_empty_names_are_rejected()
    {
        Assert.StartsWith("'to_(q' is not a valid regular expression", Assert.Throws<ArgumentException>(() => TargetModules.FromPattern("to_(q")).Message);
        Assert.Throws<ArgumentException>(() => TargetModules.FromNames("to_q", ""));
        Assert.Equal(["to_q", "to_v"], TargetModules.FromNames("to_q", "to_v", "to_q").Names);
        Assert.Equal(TargetModules.FromNames("a", "b"), TargetModules.FromNames("b", "a"));
    }
}
