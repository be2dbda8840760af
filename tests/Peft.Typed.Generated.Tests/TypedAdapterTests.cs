using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Typed.Generated.Tests.Support;
using Peft.Typed.Models.Adapters.LoHa;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Typed;
using Peft.Typed.Testing;

namespace Peft.Typed.Generated.Tests;

/// <summary>Adapters applied through typed targets, typed access to the wrapped layers, and the config checks of the generated classes.</summary>
public sealed class TypedAdapterTests
{
    [Fact]
    public void Lora_on_typed_targets_wraps_exactly_those_modules_and_exposes_its_weights()
    {
        using var unet = TinyUnet.Create();
        var attn1 = unet.DownBlocks.Block1.Attentions[0].TransformerBlocks[0].Attn1;
        var baseLayer = attn1.ToQ.Layer;
        var targets = TinyUnet.Targets.ToQ | TinyUnet.Targets.ToV;
        var config = new LoraConfig { R = 4, LoraAlpha = 8, TargetModules = targets };

        var peft = unet.WithAdapter(config);

        Assert.Equal("['to_q', 'to_v']", config.TargetModules!.ToString());
        Assert.Equal(targets.Names, peft.TargetedModuleNames());
        Assert.True(attn1.ToQ.IsAdapted);
        Assert.IsType<LoraLayer>(attn1.ToQ.Module);
        Assert.Same(baseLayer, attn1.ToQ.Layer);
        Assert.Equal([config.R, baseLayer.in_features], attn1.ToQ.Adapter<LoraLayer>().WeightA("default").shape);
        Assert.Equal(["lora_A", "lora_B"], attn1.ToQ.AdapterWeights().Select(t => t.Container));
        Assert.False(attn1.ToK.IsAdapted);
    }

    [Fact]
    public void Typed_layer_names_what_it_holds_when_asked_for_another_adapter()
    {
        using var unet = TinyUnet.Create(Peft.Typed.Models.Layers.LayerFactory.Meta);
        unet.WithAdapter(new LoraConfig { R = 2, TargetModules = TinyUnet.Targets.ToQ });
        var attn1 = unet.DownBlocks.Block1.Attentions[0].TransformerBlocks[0].Attn1;

        var notAdapted = Assert.Throws<InvalidOperationException>(() => attn1.ToK.Adapter());
        var wrongKind = Assert.Throws<InvalidOperationException>(() => attn1.ToQ.Adapter<LoHaLayer>());

        Assert.Equal($"'{attn1.ToK.Path}' is not adapted: no adapter targets it.", notAdapted.Message);
        Assert.Equal($"'{attn1.ToQ.Path}' holds LoraLayer adapters, not LoHaLayer.", wrongKind.Message);
    }

    [Fact]
    public void Targets_within_a_block_view_adapt_only_that_blocks_modules()
    {
        using var unet = TinyUnet.Create(Peft.Typed.Models.Layers.LayerFactory.Meta);
        var block = unet.UpBlocks.Block0;
        var expected = FixtureModules.Adaptable("unet-tiny")
            .Where(n => FixtureModules.IsWithin(n, block.Path) && (n.EndsWith(".to_k", StringComparison.Ordinal) || n.EndsWith(".to_v", StringComparison.Ordinal)));

        var peft = unet.WithAdapter(new LoraConfig { R = 4, TargetModules = block.Targets.ToK | block.Targets.ToV });

        Assert.Equal(expected, peft.TargetedModuleNames());
    }

    [Fact]
    public void Trainable_parameters_of_a_typed_lora_are_r_times_in_plus_out_per_layer()
    {
        using var unet = TinyUnet.Create();
        using var details = JsonDocument.Parse(File.ReadAllText(Fixtures.PathOf("unet-tiny", "module_details.json")));
        var targets = TinyUnet.Targets.Minimal;
        long expected = targets.Names.Sum(name =>
        {
            var layer = details.RootElement.GetProperty(name);
            return 4L * (layer.GetProperty("in_features").GetInt64() + layer.GetProperty("out_features").GetInt64());
        });

        var peft = unet.WithAdapter(new LoraConfig { R = 4, TargetModules = targets });

        Assert.Equal(expected, peft.GetNbTrainableParameters().Trainable);
        Assert.Equal(TinyUnet.Targets.ToQ | TinyUnet.Targets.ToV, targets);
    }

    [Fact]
    public void Text_encoder_layers_are_typed_down_to_the_adapted_projection()
    {
        using var clip = TinyClipText.Create();

        clip.WithAdapter(new LoraConfig { R = 2, TargetModules = TinyClipText.Targets.Minimal });

        var attention = clip.TextModel.Encoder.Layers[1].SelfAttn;
        Assert.Equal(attention.QProj.Path, attention.QProj.Adapter<LoraLayer>().ModuleName);
        Assert.True(attention.VProj.IsAdapted);
        Assert.False(attention.KProj.IsAdapted);
        Assert.False(clip.TextModel.Encoder.Layers[1].Mlp.Fc1.IsAdapted);
    }

    [Fact]
    public void FromPretrained_loads_a_folder_whose_config_matches()
    {
        using var unet = TinyUnet.FromPretrained(Fixtures.PathOf("unet-tiny"));
        using var file = SafetensorsFile.Open(Fixtures.PathOf("unet-tiny", "diffusion_pytorch_model.safetensors"));
        using var expected = file.Load(unet.ConvIn.Path + ".weight");

        Assert.True(unet.ConvIn.Layer.weight!.allclose(expected, rtol: 0, atol: 0));
    }

    [Fact]
    public void FromPretrained_names_every_config_key_that_differs()
    {
        var folder = Directory.CreateTempSubdirectory("typed-config-").FullName;
        try
        {
            var config = JsonNode.Parse(File.ReadAllText(Fixtures.PathOf("unet-tiny", "config.json")))!.AsObject();
            var crossAttentionDim = config["cross_attention_dim"]!.GetValue<int>();
            var headDim = config["attention_head_dim"]!.GetValue<int>();
            config["cross_attention_dim"] = crossAttentionDim + 16;
            config["attention_head_dim"] = headDim / 2;
            config["torch_dtype"] = "float16";
            File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());

            var error = Assert.Throws<TypedModelConfigException>(() => TinyUnet.FromPretrained(folder));

            Assert.Equal(
                $"{Path.Combine(folder, "config.json")} does not match TinyUnet, which was generated from another config.json: "
                + $"cross_attention_dim is {crossAttentionDim + 16}, TinyUnet has {crossAttentionDim}; attention_head_dim is {headDim / 2}, TinyUnet has {headDim}.",
                error.Message);
            Assert.Equal(["cross_attention_dim", "attention_head_dim"], error.Differences.Select(d => d.Key));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
