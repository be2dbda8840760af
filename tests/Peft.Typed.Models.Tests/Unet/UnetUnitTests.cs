using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Tests.Support;
using Peft.Typed.Models.Unet;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Unet;

/// <summary>The single-module cases of unet-tiny/units.safetensors (max abs diff &lt;= 1e-4).</summary>
public class UnetUnitTests
{
    private const double Tolerance = 1e-4;
    private const string Transformer = "down_blocks.1.attentions.0";
    private const string Block = Transformer + ".transformer_blocks.0";

    private static readonly ModuleFixture Unet = new("unet-tiny");

    [Fact]
    public void Timesteps_embeds_float_timesteps()
    {
        using var scope = NewDisposeScope();
        var module = Unet.Build("time_proj", (node, _) => new Timesteps(node));
        Check("time_proj", "a", module.call(Unet.Unit("time_proj", "a", "in.timesteps")));
    }

    [Fact]
    public void TimestepEmbedding_matches()
    {
        using var scope = NewDisposeScope();
        var module = Unet.Build("time_embedding", (node, layers) => new TimestepEmbedding(node, layers));
        Check("time_embedding", "a", module.call(Unet.Unit("time_embedding", "a", "in.sample")));
    }

    [Theory]
    [InlineData("down_blocks.0.resnets.0")]
    [InlineData("down_blocks.1.resnets.0")]
    [InlineData("up_blocks.0.resnets.0")]
    public void ResnetBlock2D_matches_at_low_variance(string path)
    {
        using var scope = NewDisposeScope();
        var module = Unet.Build(path, (node, layers) => new ResnetBlock2D(node, layers));
        Check(path, "lowvar", module.call(Unet.Unit(path, "lowvar", "in.hidden_states"), Unet.Unit(path, "lowvar", "in.temb")));
    }

    [Theory]
    [InlineData("even")]
    [InlineData("odd")]
    public void Downsample2D_matches(string tag)
    {
        using var scope = NewDisposeScope();
        const string path = "down_blocks.0.downsamplers.0";
        var module = Unet.Build(path, (node, layers) => new Downsample2D(node, layers));
        Check(path, tag, module.call(Unet.Unit(path, tag, "in.hidden_states")));
    }

    [Fact]
    public void Upsample2D_doubles_the_size()
    {
        using var scope = NewDisposeScope();
        const string path = "up_blocks.0.upsamplers.0";
        var module = Unet.Build(path, (node, layers) => new Upsample2D(node, layers));
        Check(path, "a", module.forward(Unet.Unit(path, "a", "in.hidden_states")));
    }

    [Fact]
    public void Upsample2D_interpolates_to_an_output_size()
    {
        using var scope = NewDisposeScope();
        const string path = "up_blocks.0.upsamplers.0";
        var module = Unet.Build(path, (node, layers) => new Upsample2D(node, layers));
        Check(path, "output_size", module.call(Unet.Unit(path, "output_size", "in.hidden_states"), [7, 5]));
    }

    [Fact]
    public void Transformer2DModel_matches_at_low_variance()
    {
        using var scope = NewDisposeScope();
        var module = Unet.Build(Transformer, (node, layers) => new Transformer2DModel(node, layers));
        Check(Transformer, "lowvar", module.call(Unet.Unit(Transformer, "lowvar", "in.hidden_states"), Unet.Unit(Transformer, "lowvar", "in.encoder_hidden_states")));
    }

    [Fact]
    public void BasicTransformerBlock_matches_at_low_variance()
    {
        using var scope = NewDisposeScope();
        var module = Unet.Build(Block, (node, layers) => new BasicTransformerBlock(node, layers));
        Check(Block, "lowvar", module.call(Unet.Unit(Block, "lowvar", "in.hidden_states"), Unet.Unit(Block, "lowvar", "in.encoder_hidden_states")));
    }

    [Fact]
    public void Attention_self_matches()
    {
        using var scope = NewDisposeScope();
        const string path = Block + ".attn1";
        var module = Unet.Build(path, (node, layers) => new Attention(node, layers));
        Check(path, "a", module.forward(Unet.Unit(path, "a", "in.hidden_states")));
    }

    [Fact]
    public void Attention_cross_matches()
    {
        using var scope = NewDisposeScope();
        const string path = Block + ".attn2";
        var module = Unet.Build(path, (node, layers) => new Attention(node, layers));
        Check(path, "a", module.call(Unet.Unit(path, "a", "in.hidden_states"), Unet.Unit(path, "a", "in.encoder_hidden_states")));
    }

    [Fact]
    public void GEGLU_matches()
    {
        using var scope = NewDisposeScope();
        const string path = Block + ".ff.net.0";
        var module = Unet.Build(path, (node, layers) => new GEGLU(node, layers));
        Check(path, "a", module.call(Unet.Unit(path, "a", "in.hidden_states")));
    }

    [Fact]
    public void FeedForward_matches()
    {
        using var scope = NewDisposeScope();
        const string path = Block + ".ff";
        var module = Unet.Build(path, (node, layers) => new FeedForward(node, layers));
        Check(path, "a", module.call(Unet.Unit(path, "a", "in.hidden_states")));
    }

    [Fact]
    public void A_resnet_with_a_time_projection_needs_a_time_embedding()
    {
        using var scope = NewDisposeScope();
        const string path = "down_blocks.0.resnets.0";
        var module = Unet.Build(path, (node, layers) => new ResnetBlock2D(node, layers));
        var error = Assert.Throws<ArgumentNullException>(() => module.call(Unet.Unit(path, "lowvar", "in.hidden_states"), null));
        Assert.StartsWith("ResnetBlock2D 'down_blocks.0.resnets.0' has a time_emb_proj and needs a time embedding.", error.Message);
    }

    [Fact]
    public void An_up_block_needs_one_skip_per_resnet()
    {
        using var scope = NewDisposeScope();
        const string path = "up_blocks.1";
        var module = Unet.Build(path, (node, layers) => new UpBlock2D(node, layers));
        var input = new UpBlockInput(randn(1, 64, 4, 4), randn(1, 128), [randn(1, 32, 4, 4)], null, null);
        var error = Assert.Throws<ArgumentException>(() => module.call(input));
        Assert.StartsWith("Up block 'up_blocks.1' has 3 resnets and needs as many skip tensors, got 1.", error.Message);
    }

    [Fact]
    public void A_module_is_only_built_from_a_node_of_its_class()
    {
        var node = Unet.Tree.Find("down_blocks.0.resnets.0.conv1");
        var error = Assert.Throws<ArgumentException>(() => new ResnetBlock2D(node, LayerFactory.Default));
        Assert.StartsWith("Module 'down_blocks.0.resnets.0.conv1' is a Conv2d, expected ResnetBlock2D.", error.Message);
    }

    private static void Check(string path, string tag, Tensor actual) =>
        Compare.Close(Unet.Unit(path, tag, "out"), actual, Tolerance, what: $"{path}/{tag}");
}
