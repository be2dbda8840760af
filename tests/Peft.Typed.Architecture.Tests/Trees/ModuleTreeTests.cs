using Peft.Typed.Architecture.Tests.Support;
using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Tests.Trees;

public sealed class ModuleTreeTests
{
    [Fact]
    public void Adaptable_modules_are_exactly_the_linear_and_conv2d_leaves()
    {
        var tree = TreeBuilding.FromFixture("unet-tiny");
        var expected = new FixtureModel("unet-tiny").Modules().Where(m => m.ClassName is "Linear" or "Conv2d").Select(m => m.Path);

        Assert.Equal(expected, tree.AdaptableModules().Select(m => m.Path));
        Assert.Equal(LayerKind.GroupNorm, tree.Find("down_blocks.0.resnets.0.norm1").Kind);
        Assert.Equal(LayerKind.LayerNorm, tree.Find("down_blocks.1.attentions.0.transformer_blocks.0.norm1").Kind);
        Assert.Equal(LayerKind.Activation, tree.Find("conv_act").Kind);
        Assert.Equal(LayerKind.Dropout, tree.Find("down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_out.1").Kind);
        Assert.Equal(LayerKind.Composite, tree.Find("time_proj").Kind);
        Assert.True(tree.Find("down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q").IsAdaptable);
        Assert.False(tree.Find("down_blocks.1.attentions.0.proj_in").Kind == LayerKind.Linear);
    }

    [Fact]
    public void Embeddings_are_not_adaptable()
    {
        var tree = ArchitectureDescription.Parse("""{ "architectures": ["CLIPTextModel"], "num_hidden_layers": 1 }""", "config.json").BuildTree();

        Assert.Equal(LayerKind.Embedding, tree.Find("text_model.embeddings.token_embedding").Kind);
        Assert.False(tree.Find("text_model.embeddings.token_embedding").IsAdaptable);
        Assert.Equal(6, tree.AdaptableModules().Count());
    }

    [Fact]
    public void Find_and_child_name_the_missing_module()
    {
        var tree = TreeBuilding.FromFixture("vae-tiny");

        Assert.Equal("Decoder", tree.Find("decoder").ClassName);
        Assert.Null(tree.FindOrNull("decoder.nope"));
        Assert.Equal("AutoencoderKL has no module 'decoder.nope'.", Assert.Throws<KeyNotFoundException>(() => tree.Find("decoder.nope")).Message);
        Assert.Equal(
            "Module 'quant_conv' (Conv2d) has no child 'weight'; children: .",
            Assert.Throws<KeyNotFoundException>(() => tree.Find("quant_conv").Child("weight")).Message);
    }

    [Fact]
    public void Parameters_carry_full_names_and_their_module()
    {
        var tree = TreeBuilding.FromFixture("vae-tiny");
        var parameter = tree.Parameters.Single(p => p.Name == "encoder.mid_block.attentions.0.to_q.weight");

        Assert.Same(tree.Find("encoder.mid_block.attentions.0.to_q"), parameter.Module);
        Assert.Equal([64L, 64L], parameter.Shape);
    }
}
