using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Generated.Tests.Support;
using Peft.Typed.Models.Layers;

namespace Peft.Typed.Generated.Tests;

/// <summary>
/// An instance view is a scope and has the targets of its sub-tree (<c>unet.DownBlocks[1].Targets.ToQ</c>,
/// <c>targets.Within(unet.MidBlock)</c>); the static <c>Scopes</c> still name every module of a kind (every attn2).
/// </summary>
public sealed class ScopeTests
{
    private const string Folder = "unet-tiny";

    private static IReadOnlyList<string> Adaptable(Func<string, bool> where) => FixtureModules.Adaptable(Folder).Where(where).ToList();

    [Fact]
    public void View_targets_are_the_leaf_selectors_inside_that_block()
    {
        using var unet = TinyUnet.Create(LayerFactory.Meta);

        var toQ = unet.DownBlocks[1].Targets.ToQ;

        Assert.Equal(Adaptable(n => FixtureModules.IsWithin(n, "down_blocks.1") && n.EndsWith(".to_q", StringComparison.Ordinal)), toQ.Names);
        Assert.Equal(toQ, unet.DownBlocks.Block1.Targets.ToQ);
        Assert.Equal(TinyUnet.Targets.ToQ.Within(TinyUnet.Scopes.DownBlocks[1]), toQ);
    }

    [Fact]
    public void A_view_converts_to_the_scope_of_its_sub_tree()
    {
        using var unet = TinyUnet.Create(LayerFactory.Meta);

        ModuleScope scope = unet.MidBlock;
        var inside = TinyUnet.Targets.All.Within(unet.MidBlock);
        var outside = TinyUnet.Targets.Conv1.Except(unet.UpBlocks[0]);

        Assert.Equal([unet.MidBlock.Path], scope.Paths);
        Assert.Equal(unet.MidBlock.Scope, scope);
        Assert.Equal(Adaptable(n => FixtureModules.IsWithin(n, "mid_block")), inside.Names);
        Assert.Equal(Adaptable(n => n.EndsWith(".conv1", StringComparison.Ordinal) && !FixtureModules.IsWithin(n, "up_blocks.0")), outside.Names);
    }

    [Fact]
    public void Every_target_of_a_view_is_the_static_target_within_it()
    {
        using var unet = TinyUnet.Create(LayerFactory.Meta);
        var attention = unet.MidBlock.Attentions[0].TransformerBlocks[0].Attn1;
        var targets = attention.Targets;

        Assert.Equal(Adaptable(n => FixtureModules.IsWithin(n, attention.Path)), targets.All.Names);
        Assert.Equal(TinyUnet.Targets.AllLinear.Within(attention), targets.AllLinear);
        Assert.Equal(TinyUnet.Targets.Minimal.Within(attention), targets.Minimal);
        Assert.Equal(TinyUnet.Targets.Comprehensive.Within(attention), targets.Comprehensive);
        Assert.Equal(targets.ToK | targets.ToOut0, targets.Named("to_k", "to_out.0"));
        Assert.Equal(targets.ToV, targets.Matching(@".*\.to_v"));
        Assert.Empty(targets.ToQ.Within(unet.DownBlocks[0]));
    }

    [Fact]
    public void Static_scope_still_names_every_module_of_a_kind()
    {
        var cross = (TinyUnet.Targets.ToK | TinyUnet.Targets.ToV).Within(TinyUnet.Scopes.Attn2);
        var attn2 = new TinyUnet.ScopedTargets(TinyUnet.Scopes.Attn2);

        Assert.Equal(Adaptable(n => n.EndsWith(".attn2.to_k", StringComparison.Ordinal) || n.EndsWith(".attn2.to_v", StringComparison.Ordinal)), cross.Names);
        Assert.Equal(cross, attn2.ToK | attn2.ToV);
    }

    [Fact]
    public void Scoped_targets_refuse_a_scope_of_another_model()
    {
        var error = Assert.Throws<ArgumentException>(() => new TinyUnet.ScopedTargets(Sd15Unet.Scopes.Attn2));

        Assert.Equal("The scope belongs to Sd15Unet, not TinyUnet. (Parameter 'scope')", error.Message);
    }
}
