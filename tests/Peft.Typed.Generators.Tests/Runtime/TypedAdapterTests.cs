using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Generators.Tests.Support;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Typed;
using Peft.Typed.Models.Unet;
using Peft.Typed.Testing;
using TorchSharp.Modules;

namespace Peft.Typed.Generators.Tests.Runtime;

/// <summary>Adapters applied through typed targets, typed access to the wrapped layers, and the config checks of the generated classes.</summary>
[Collection(GeneratedAssemblyCollection.Name)]
public sealed class TypedAdapterTests(GeneratedAssembly generated)
{
    [Fact]
    public void Lora_on_a_typed_union_wraps_exactly_those_modules_and_exposes_its_weights()
    {
        using var unet = (TypedModel)generated.Call("TinyUnet", "Create", [null]);
        dynamic typed = unet;
        var toQ = typed.DownBlocks[1].Attentions[0].TransformerBlocks[0].Attn1.ToQ;
        var baseLayer = (Linear)toQ.Layer;
        var targets = generated.Target("TinyUnet", "ToQ") | generated.Target("TinyUnet", "ToV");
        var config = new LoraConfig { R = 4, LoraAlpha = 8, TargetModules = targets };

        var peft = unet.WithAdapter(config);

        Assert.Equal("['to_q', 'to_v']", config.TargetModules!.ToString());
        Assert.Equal(targets.Names, peft.TargetedModuleNames());
        Assert.True((bool)toQ.IsAdapted);
        Assert.IsType<LoraLayer>((object)toQ.Module);
        Assert.Same(baseLayer, (object)toQ.Layer);
        Assert.Equal(new long[] { 4, 64 }, ((LoraLayer)toQ.Lora).WeightA("default").shape);
        Assert.Equal(["lora_A", "lora_B"], ((IReadOnlyList<AdapterTensor>)toQ.AdapterWeights()).Select(t => t.Container));
        Assert.False((bool)typed.DownBlocks[1].Attentions[0].TransformerBlocks[0].Attn1.ToK.IsAdapted);
    }

    [Fact]
    public void Typed_layer_names_what_it_holds_when_asked_for_another_adapter()
    {
        using var unet = (TypedModel)generated.Call("TinyUnet", "Create", [null]);
        dynamic typed = unet;
        unet.WithAdapter(new LoraConfig { R = 2, TargetModules = generated.Target("TinyUnet", "ToQ") });
        var attn1 = typed.DownBlocks[1].Attentions[0].TransformerBlocks[0].Attn1;

        var notAdapted = Assert.Throws<InvalidOperationException>(() => (object)attn1.ToK.Adapter);
        var wrongKind = Assert.Throws<InvalidOperationException>(() => (object)attn1.ToQ.LoHa);

        Assert.Equal("'down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_k' is not adapted: no adapter targets it.", notAdapted.Message);
        Assert.Equal("'down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q' holds LoraLayer adapters, not LoHa.", wrongKind.Message);
    }

    [Fact]
    public void Targets_restricted_to_attn2_adapt_only_the_cross_attention_projections()
    {
        using var unet = (TypedModel)generated.Call("TinyUnet", "Create", [null]);
        var targets = (generated.Target("TinyUnet", "ToK") | generated.Target("TinyUnet", "ToV")).Within(generated.Scope("TinyUnet", "Attn2"));
        using var document = JsonDocument.Parse(File.ReadAllText(Fixtures.PathOf("unet-tiny", "modules.json")));
        var expected = document.RootElement.EnumerateObject().Select(p => p.Name)
            .Where(n => n.EndsWith(".attn2.to_k", StringComparison.Ordinal) || n.EndsWith(".attn2.to_v", StringComparison.Ordinal)).ToList();

        var peft = unet.WithAdapter(new LoraConfig { R = 4, TargetModules = targets });

        Assert.Equal(expected, peft.TargetedModuleNames());
    }

    [Fact]
    public void Trainable_parameters_of_a_typed_lora_are_r_times_in_plus_out_per_layer()
    {
        using var unet = (TypedModel)generated.Call("TinyUnet", "Create", [null]);
        using var details = JsonDocument.Parse(File.ReadAllText(Fixtures.PathOf("unet-tiny", "module_details.json")));
        var targets = generated.Target("TinyUnet", "Minimal");
        long expected = targets.Names.Sum(name =>
        {
            var layer = details.RootElement.GetProperty(name);
            return 4L * (layer.GetProperty("in_features").GetInt64() + layer.GetProperty("out_features").GetInt64());
        });

        var peft = unet.WithAdapter(new LoraConfig { R = 4, TargetModules = targets });

        Assert.Equal(expected, peft.GetNbTrainableParameters().Trainable);
        Assert.Equal(generated.Target("TinyUnet", "ToQ") | generated.Target("TinyUnet", "ToV"), targets);
    }

    [Fact]
    public void Text_encoder_layers_are_typed_down_to_the_adapted_projection()
    {
        using var clip = (TypedModel)generated.Call("TinyClipText", "Create", [null]);
        dynamic typed = clip;

        clip.WithAdapter(new LoraConfig { R = 2, TargetModules = generated.Target("TinyClipText", "Minimal") });

        var attention = typed.TextModel.Encoder.Layers[1].SelfAttn;
        Assert.Equal("text_model.encoder.layers.1.self_attn.q_proj", ((LoraLayer)attention.QProj.Lora).ModuleName);
        Assert.True((bool)attention.VProj.IsAdapted);
        Assert.False((bool)attention.KProj.IsAdapted);
        Assert.False((bool)typed.TextModel.Encoder.Layers[1].Mlp.Fc1.IsAdapted);
    }

    [Fact]
    public void FromPretrained_loads_a_folder_whose_config_matches()
    {
        using var unet = (TypedModel)generated.Call("TinyUnet", "FromPretrained", Fixtures.PathOf("unet-tiny"), null, null);
        using var file = SafetensorsFile.Open(Fixtures.PathOf("unet-tiny", "diffusion_pytorch_model.safetensors"));
        using var expected = file.Load("conv_in.weight");
        dynamic typed = unet;

        Assert.Equal(0f, (((Conv2d)typed.ConvIn.Layer).weight! - expected).abs().max().item<float>());
    }

    [Fact]
    public void FromPretrained_names_every_config_key_that_differs()
    {
        var folder = Directory.CreateTempSubdirectory("typed-config-").FullName;
        try
        {
            var config = JsonNode.Parse(File.ReadAllText(Fixtures.PathOf("unet-tiny", "config.json")))!.AsObject();
            config["cross_attention_dim"] = 48;
            config["attention_head_dim"] = 4;
            config["torch_dtype"] = "float16";
            File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());

            var error = Assert.Throws<TypedModelConfigException>(() => generated.Call("TinyUnet", "FromPretrained", folder, null, null));

            Assert.Equal(
                $"{Path.Combine(folder, "config.json")} does not match TinyUnet, which was generated from another config.json: "
                + "cross_attention_dim is 48, TinyUnet has 32; attention_head_dim is 4, TinyUnet has 8.",
                error.Message);
            Assert.Equal(["cross_attention_dim", "attention_head_dim"], error.Differences.Select(d => d.Key));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Wrapping_a_model_of_another_architecture_is_refused()
    {
        var sd15Config = Peft.Typed.Architecture.ArchitectureDescription.Parse<Peft.Typed.Architecture.Configs.UNet2DConditionConfig>(
            File.ReadAllText(Fixtures.PathOf("architectures", "sd15-unet", "config.json")), "sd15");
        using var model = new UNet2DConditionModel(sd15Config, Peft.Typed.Models.Layers.LayerFactory.Meta);
        var mismatch = Assert.Throws<TypedModelConfigException>(() => generated.Call("TinyUnet", "Wrap", model));

        Assert.StartsWith("The UNet2DConditionModel given does not match TinyUnet, which was generated from another config.json: sample_size is 64, TinyUnet has 32; ", mismatch.Message);
        Assert.Contains("cross_attention_dim is 768, TinyUnet has 32", mismatch.Message);
    }
}
