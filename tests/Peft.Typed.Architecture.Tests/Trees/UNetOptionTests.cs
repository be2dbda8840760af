using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Diffusers;
using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Tests.Trees;

/// <summary>
/// UNet options the fixtures leave at one value, checked against diffusers 0.27.2's constructor logic
/// (unet_2d_condition.py, unet_2d_blocks.py, attention.py).
/// </summary>
public sealed class UNetOptionTests
{
    /// <summary>A tiny UNet with cross-attention in every block, so per-block lists are visible everywhere.</summary>
    private static UNet2DConditionConfig AllCrossAttention() => new()
    {
        BlockOutChannels = [32, 64],
        DownBlockTypes = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
        UpBlockTypes = ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
        AttentionHeadDim = 2,
        CrossAttentionDim = 16,
        LayersPerBlock = 1,
    };

    private static long KeyWidth(ModuleTree tree, string attention) => tree.Find(attention + ".to_k").Options.GetInt("in_features");

    [Fact]
    public void Cross_attention_dim_list_is_per_down_block_reversed_for_up_blocks_and_last_for_mid()
    {
        var config = AllCrossAttention();
        config.CrossAttentionDim = ScalarOrList<int>.List([24, 40]);
        var tree = UNet2DConditionArchitecture.Build(config);

        Assert.Equal(24, KeyWidth(tree, "down_blocks.0.attentions.0.transformer_blocks.0.attn2"));
        Assert.Equal(40, KeyWidth(tree, "down_blocks.1.attentions.0.transformer_blocks.0.attn2"));
        Assert.Equal(40, KeyWidth(tree, "mid_block.attentions.0.transformer_blocks.0.attn2"));
        Assert.Equal(40, KeyWidth(tree, "up_blocks.0.attentions.0.transformer_blocks.0.attn2"));
        Assert.Equal(24, KeyWidth(tree, "up_blocks.1.attentions.0.transformer_blocks.0.attn2"));
    }

    [Fact]
    public void Only_cross_attention_makes_attn1_read_the_encoder_states_except_in_the_mid_block()
    {
        var config = AllCrossAttention();
        config.OnlyCrossAttention = ScalarOrList<bool>.List([false, true]);
        var tree = UNet2DConditionArchitecture.Build(config);

        Assert.Equal(32, KeyWidth(tree, "down_blocks.0.attentions.0.transformer_blocks.0.attn1"));
        Assert.Equal(16, KeyWidth(tree, "down_blocks.1.attentions.0.transformer_blocks.0.attn1"));
        Assert.True(tree.Find("down_blocks.1.attentions.0.transformer_blocks.0.attn1").Options.GetBool("is_cross_attention"));
        Assert.Equal(64, KeyWidth(tree, "mid_block.attentions.0.transformer_blocks.0.attn1"));
        Assert.Equal(16, KeyWidth(tree, "up_blocks.0.attentions.0.transformer_blocks.0.attn1"));
        Assert.Equal(32, KeyWidth(tree, "up_blocks.1.attentions.0.transformer_blocks.0.attn1"));
    }

    [Fact]
    public void Heads_and_layers_lists_follow_the_same_rule()
    {
        var config = AllCrossAttention();
        config.AttentionHeadDim = ScalarOrList<int>.List([2, 8]);
        config.TransformerLayersPerBlock = ScalarOrList<int>.List([1, 3]);
        var tree = UNet2DConditionArchitecture.Build(config);

        string Heads(string path)
        {
            var options = tree.Find(path).Options;
            return $"{options.GetInt("heads")}x{options.GetInt("dim_head")}/{options.GetInt("num_layers")}";
        }

        Assert.Equal("2x16/1", Heads("down_blocks.0.attentions.0"));
        Assert.Equal("8x8/3", Heads("down_blocks.1.attentions.0"));
        Assert.Equal("8x8/3", Heads("mid_block.attentions.0"));
        Assert.Equal("8x8/3", Heads("up_blocks.0.attentions.0"));
        Assert.Equal("2x16/1", Heads("up_blocks.1.attentions.0"));
    }

    [Fact]
    public void Layers_per_block_list_gives_up_blocks_one_more_resnet_in_reverse_order()
    {
        var config = AllCrossAttention();
        config.LayersPerBlock = ScalarOrList<int>.List([1, 3]);
        var tree = UNet2DConditionArchitecture.Build(config);

        Assert.Equal(
            [1, 3, 4, 2],
            new[] { "down_blocks.0.resnets", "down_blocks.1.resnets", "up_blocks.0.resnets", "up_blocks.1.resnets" }.Select(p => tree.Find(p).Children.Count));
    }

    [Theory]
    [InlineData("mish", "Mish")]
    [InlineData("Swish", "SiLU")]
    [InlineData("gelu", "GELU")]
    [InlineData("relu", "ReLU")]
    public void Act_fn_sets_every_get_activation_module_but_not_add_embedding(string actFn, string className)
    {
        var config = AllCrossAttention();
        config.ActFn = actFn;
        config.AdditionEmbedType = "text_time";
        config.AdditionTimeEmbedDim = 8;
        config.ProjectionClassEmbeddingsInputDim = 64;
        var tree = UNet2DConditionArchitecture.Build(config);

        Assert.Equal(className, tree.Find("time_embedding.act").ClassName);
        Assert.Equal(className, tree.Find("down_blocks.1.resnets.0.nonlinearity").ClassName);
        Assert.Equal(className, tree.Find("conv_act").ClassName);
        Assert.Equal("SiLU", tree.Find("add_embedding.act").ClassName);
    }

    [Fact]
    public void Kernels_time_embedding_dim_and_dropout_reach_their_modules()
    {
        var config = AllCrossAttention();
        config.ConvInKernel = 1;
        config.ConvOutKernel = 5;
        config.TimeEmbeddingDim = 96;
        config.Dropout = 0.25;
        var tree = UNet2DConditionArchitecture.Build(config);

        Assert.Equal([1L, 1L], tree.Find("conv_in").Options.GetIntList("kernel_size"));
        Assert.Equal([0L, 0L], tree.Find("conv_in").Options.GetIntList("padding"));
        Assert.Equal([5L, 5L], tree.Find("conv_out").Options.GetIntList("kernel_size"));
        Assert.Equal([2L, 2L], tree.Find("conv_out").Options.GetIntList("padding"));
        Assert.Equal(96, tree.Find("time_embedding.linear_2").Options.GetInt("out_features"));
        Assert.Equal(96, tree.Find("up_blocks.1.resnets.1.time_emb_proj").Options.GetInt("in_features"));
        Assert.Equal(0.25, tree.Find("mid_block.resnets.1.dropout").Options.GetDouble("p"));
        Assert.Equal(0.0, tree.Find("mid_block.attentions.0.transformer_blocks.0.ff.net.1").Options.GetDouble("p"));
    }

    [Fact]
    public void Unet_res_prefix_is_dropped_like_get_down_block_does()
    {
        var config = AllCrossAttention();
        config.DownBlockTypes = ["UNetResCrossAttnDownBlock2D", "CrossAttnDownBlock2D"];
        var tree = UNet2DConditionArchitecture.Build(config);

        Assert.Equal("CrossAttnDownBlock2D", tree.Find("down_blocks.0").ClassName);
    }
}
