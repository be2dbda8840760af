using Peft.Typed.Architecture.Targeting;

namespace Peft.Typed.Architecture.Tests.Targeting;

/// <summary>
/// What a dead <c>target_modules</c> entry is told on the reference models: a name a user can write (never a list
/// index or another bare path segment), or the current name of an old diffusers attention name.
/// </summary>
public sealed class UnmatchedTargetTests
{
    private static readonly ModuleCatalog TinyUnet = ModuleCatalogTests.FromFixture("unet-tiny", "TinyUnet");

    private static UnmatchedTarget Unmatched(ModuleCatalog catalog, string entry) =>
        Assert.Single(TargetSelector.FindUnmatched(catalog.Modules, TargetModules.FromNames(entry), ModuleCatalog.AdaptableKinds));

    public static TheoryData<string, string> LegacyNames()
    {
        var data = new TheoryData<string, string>();
        foreach (var rename in LegacyAttentionNames.Renames) data.Add(rename.Key, rename.Value);
        return data;
    }

    private static bool StartsWithIndex(string name) => name.Split('.')[0].All(char.IsAsciiDigit);

    [Theory]
    [MemberData(nameof(LegacyNames))]
    public void Old_attention_names_are_renamed_to_the_names_the_unet_has(string old, string current)
    {
        var unmatched = Unmatched(TinyUnet, old);

        Assert.True(unmatched.IsRenamed);
        Assert.Equal(current, unmatched.RenamedTo);
        Assert.Equal(current, unmatched.Suggestion);
        Assert.NotEmpty(TinyUnet.Leaf(current));
        Assert.Equal($"target_modules entry '{old}' matches no module: diffusers renamed the attention projection '{old}' to '{current}'.", unmatched.Message);
    }

    [Fact]
    public void Query_is_not_renamed_where_the_model_has_no_to_q_and_is_never_told_an_index()
    {
        var clip = ModuleCatalog.FromTree("TinyClipText",
            ArchitectureDescription.Parse(File.ReadAllText(Peft.Typed.Testing.Fixtures.PathOf("clip-text-tiny", "config.json")), "clip").BuildTree());

        var unmatched = Unmatched(clip, "query");

        Assert.False(unmatched.IsRenamed);
        Assert.Contains(unmatched.Suggestion, clip.All.Names.SelectMany(ClosestName.Suffixes));
        Assert.False(StartsWithIndex(unmatched.Suggestion!), unmatched.Suggestion);
    }

    [Fact]
    public void Typo_is_told_the_leaf_name_it_misspells()
    {
        var unmatched = Unmatched(TinyUnet, "to_qq");

        Assert.False(unmatched.IsRenamed);
        Assert.Equal("target_modules entry 'to_qq' matches no module; did you mean 'to_q'?", unmatched.Message);
    }

    /// <summary>Short or numeric entries are nearest to a bare index ("5" is one edit from "0"); the suggestion is still a name.</summary>
    [Theory]
    [InlineData("5")]
    [InlineData("9")]
    [InlineData("0.x")]
    [InlineData("q")]
    [InlineData("quer")]
    public void Suggestions_are_names_a_user_writes_never_a_list_index(string entry)
    {
        var suggestion = Unmatched(TinyUnet, entry).Suggestion!;

        var writable = TinyUnet.All.Names.SelectMany(ClosestName.Suffixes).ToHashSet();
        Assert.Contains(suggestion, writable);
        Assert.False(StartsWithIndex(suggestion), suggestion);
    }
}
