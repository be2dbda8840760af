using Peft.Typed.Architecture.Targeting;

namespace Peft.Typed.Architecture.Tests.Targeting;

/// <summary>Composition of target sets (union, intersection, exclusion, scopes) and their conversion to PEFT's target_modules.</summary>
public sealed class TargetSetTests
{
    private static readonly ModuleCatalog Sd15 = ModuleCatalogTests.Sd15();

    [Fact]
    public void Union_intersection_and_exclusion_follow_set_algebra()
    {
        var toQ = Sd15.Leaf("to_q");
        var toV = Sd15.Leaf("to_v");

        Assert.Equal(64, (toQ | toV).Count);
        Assert.True((toQ & toV).IsEmpty);
        Assert.Equal(toQ, (toQ | toV) & toQ);
        Assert.Equal(Sd15.All.Count - 32, (Sd15.All - toQ).Count);
        Assert.Equal(toQ.Union(toV), toV | toQ);
    }

    [Fact]
    public void Within_a_named_scope_keeps_the_modules_below_every_module_of_that_name()
    {
        var set = Sd15.Leaf("to_q").Within(Sd15.Scope("attn2"));

        Assert.Equal(16, set.Count);
        Assert.All(set.Names, n => Assert.EndsWith(".attn2.to_q", n));
        Assert.Equal(set, Sd15.Leaf("to_q").Except(Sd15.Scope("attn1")));
    }

    [Fact]
    public void Indexing_a_list_scope_selects_one_element_of_each_list()
    {
        var down1 = Sd15.Scope("down_blocks")[1];
        var firstAttentions = Sd15.Scope("attentions")[0];
        var modules = new Support.FixtureModel("architectures/sd15-unet").Modules();

        Assert.Equal(["down_blocks.1"], down1.Paths);
        Assert.Equal(modules.Where(m => m.Path.EndsWith("attentions.0", StringComparison.Ordinal)).Select(m => m.Path), firstAttentions.Paths);
        Assert.All(Sd15.Leaf("to_q").Within(down1).Names, n => Assert.StartsWith("down_blocks.1.", n));
        Assert.Equal(4, Sd15.Leaf("to_q").Within(down1).Count);
    }

    [Fact]
    public void Index_past_every_list_of_the_scope_throws_with_their_lengths()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Sd15.Scope("down_blocks")[4]);

        Assert.StartsWith("No element 4 in Sd15Unet: down_blocks has 4.", error.Message);
    }

    [Fact]
    public void Conversion_writes_leaf_names_when_they_select_exactly_the_set()
    {
        TargetModules targets = Sd15.Leaf("to_q") | Sd15.Leaf("to_v");

        Assert.Equal(TargetModulesKind.Names, targets.Kind);
        Assert.Equal(["to_q", "to_v"], targets.Names);
    }

    [Fact]
    public void Conversion_writes_qualified_names_for_a_restricted_set()
    {
        var set = Sd15.Leaf("to_k").Within(Sd15.Scope("down_blocks")[2]);

        var targets = set.ToTargetModules();

        Assert.Equal(TargetModulesKind.Names, targets.Kind);
        Assert.Equal(set.Names, targets.Names);
        Assert.Equal(set, Sd15.Select(targets));
    }

    [Fact]
    public void Conversion_falls_back_to_an_exact_regex_when_names_would_select_more()
    {
        var catalog = new ModuleCatalog("Nested", new ModuleEntry[]
        {
            new("", "Root"), new("a", "Block"), new("a.x", "Linear"), new("a.y", "Linear"),
            new("b", "Block"), new("b.a", "Block"), new("b.a.x", "Linear"), new("b.a.y", "Linear"),
        });
        var set = catalog.Named(["a.x"]) - catalog.Named(["b.a.x"]);

        var targets = set.ToTargetModules();

        Assert.Equal(TargetModulesKind.Regex, targets.Kind);
        Assert.Equal(@"a\.x", targets.Pattern);
        Assert.Equal(set, catalog.Select(targets));
    }

    [Fact]
    public void Empty_set_cannot_become_target_modules()
    {
        var empty = Sd15.Leaf("to_q") & Sd15.Leaf("to_k");

        var error = Assert.Throws<InvalidOperationException>(() => empty.ToTargetModules());

        Assert.Equal("The target set selects no module of Sd15Unet; an adapter needs at least one target.", error.Message);
        Assert.Equal("no module of Sd15Unet", empty.ToString());
    }

    [Fact]
    public void Sets_of_two_models_do_not_mix()
    {
        var other = ModuleCatalogTests.FromFixture("unet-tiny", "TinyUnet");

        var error = Assert.Throws<ArgumentException>(() => Sd15.Leaf("to_q") | other.Leaf("to_q"));

        Assert.Equal("Cannot combine targets of Sd15Unet with targets of TinyUnet: a target set belongs to one model.", error.Message);
    }

    [Fact]
    public void Description_counts_modules_by_class_and_shows_the_peft_form()
    {
        Assert.Equal("64 modules of Sd15Unet (64 Linear): ['to_q', 'to_v']", (Sd15.Leaf("to_q") | Sd15.Leaf("to_v")).ToString());
    }
}
