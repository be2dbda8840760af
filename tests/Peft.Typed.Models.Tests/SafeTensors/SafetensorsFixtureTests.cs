using System.Text.Json;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.SafeTensors;

/// <summary>Every fixture file read back and checked against what the fixture READMEs state.</summary>
public sealed class SafetensorsFixtureTests
{
    /// <summary>The only I64 tensors the READMEs name: integer timesteps and CLIP token ids/eos positions.</summary>
    private static readonly HashSet<string> I64Names =
        ["input.timestep", "add_noise.timesteps", "get_velocity.timesteps", "loop.timesteps", "input_ids", "input_ids_pad0", "eos_position"];

    /// <summary>Integer tensors the READMEs name (also with a prefix such as <c>input.</c>), and kohya's <c>.alpha</c>, which lora-formats stores as I64 in the converter's file.</summary>
    private static bool IsInteger(string name) =>
        I64Names.Contains(name) || I64Names.Contains(name[(name.LastIndexOf('.') + 1)..]) || name.EndsWith(".alpha", StringComparison.Ordinal);

    private static long[] Values(SafetensorsFile file, string name)
    {
        using var tensor = file.Load(name);
        return tensor.data<long>().ToArray();
    }

    private static void AssertShapes(SafetensorsFile file, IReadOnlyDictionary<string, long[]> expected, SafetensorsDType dtype = SafetensorsDType.F32)
    {
        foreach (var (name, shape) in expected)
        {
            Assert.True(file.Contains(name), $"{file.FilePath}: no '{name}'");
            Assert.Equal(shape, file.Info(name).Shape);
            Assert.Equal(dtype, file.Info(name).DType);
        }
    }

    /// <summary>Same shape and bit-identical values.</summary>
    private static void AssertSameTensor(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(expected.bytes.ToArray(), actual.bytes.ToArray());
    }

    private static Dictionary<string, long[]> ParametersJson(string folder)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Fixtures.PathOf(folder, "parameters.json")));
        return json.RootElement.EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray());
    }

    [Fact]
    public void Every_fixture_file_loads_with_its_header_shapes_and_the_README_dtypes()
    {
        var files = Directory.EnumerateFiles(Fixtures.Directory, "*.safetensors", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(files);
        foreach (var path in files)
        {
            using var scope = NewDisposeScope();
            using var file = SafetensorsFile.Open(path);
            Assert.NotEmpty(file.Tensors);
            Assert.Equal("pt", file.Metadata["format"]);
            foreach (var info in file.Tensors)
            {
                Assert.True(info.DType == SafetensorsDType.F32 || info.DType == SafetensorsDType.I64 && IsInteger(info.Name), $"{path}: {info.Name} is {info.DType}");
                var tensor = file.Load(info.Name);
                Assert.Equal(info.Shape, tensor.shape);
                Assert.Equal(info.DType.ToScalarType(), tensor.dtype);
            }
        }
    }

    [Theory]
    [InlineData("unet-tiny", 304)]
    [InlineData("vae-tiny", 156)]
    public void Weights_match_parameters_json(string folder, int count)
    {
        using var file = SafetensorsFile.Open(Fixtures.PathOf(folder, "diffusion_pytorch_model.safetensors"));
        var expected = ParametersJson(folder);
        Assert.Equal(count, file.Tensors.Count);
        Assert.Equal(expected.Keys.Order(), file.Names.Order());
        AssertShapes(file, expected);
        Assert.Equal(new Dictionary<string, string> { ["format"] = "pt" }, file.Metadata);
    }

    [Fact]
    public void Unet_tiny_case_files_match_the_README_table()
    {
        foreach (var name in new[] { "case.safetensors", "case-lowvar.safetensors" })
        {
            using var file = SafetensorsFile.Open(Fixtures.PathOf("unet-tiny", name));
            Assert.Equal(4, file.Tensors.Count);
            AssertShapes(file, new Dictionary<string, long[]>
            {
                ["input.sample"] = [2, 4, 32, 32],
                ["input.encoder_hidden_states"] = [2, 77, 32],
                ["output.sample"] = [2, 4, 32, 32],
            });
            AssertShapes(file, new Dictionary<string, long[]> { ["input.timestep"] = [2] }, SafetensorsDType.I64);
            Assert.Equal([10, 500], Values(file, "input.timestep"));
            Assert.Equal("2001", file.Metadata["input_seed"]);
            Assert.Equal("1001", file.Metadata["weight_seed"]);
        }
    }

    [Fact]
    public void Unet_tiny_intermediates_match_the_README_table_and_conv_out_is_the_output()
    {
        using var scope = NewDisposeScope();
        using var file = SafetensorsFile.Open(Fixtures.PathOf("unet-tiny", "intermediates.safetensors"));
        const string block = "down_blocks.1.attentions.0.transformer_blocks.0";
        var expected = new Dictionary<string, long[]>
        {
            ["time_proj"] = [2, 32], ["time_embedding"] = [2, 128], ["conv_in"] = [2, 32, 32, 32],
            ["down_blocks.0.resnets.0"] = [2, 32, 32, 32], ["down_blocks.0"] = [2, 32, 16, 16],
            ["down_blocks.1.attentions.0.norm"] = [2, 64, 16, 16], ["down_blocks.1.attentions.0.proj_in"] = [2, 64, 16, 16],
            [$"{block}.attn1"] = [2, 256, 64], [$"{block}.attn2"] = [2, 256, 64], [$"{block}.ff"] = [2, 256, 64], [block] = [2, 256, 64],
            ["down_blocks.1.attentions.0"] = [2, 64, 16, 16], ["down_blocks.1"] = [2, 64, 16, 16], ["mid_block"] = [2, 64, 16, 16],
            ["up_blocks.0"] = [2, 64, 32, 32], ["up_blocks.1"] = [2, 32, 32, 32], ["conv_norm_out"] = [2, 32, 32, 32], ["conv_out"] = [2, 4, 32, 32],
        };
        Assert.Equal(expected.Keys.Order(), file.Names.Order());
        AssertShapes(file, expected);

        using var @case = SafetensorsFile.Open(Fixtures.PathOf("unet-tiny", "case.safetensors"));
        AssertSameTensor(file.Load("conv_out"), @case.Load("output.sample"));
    }

    [Fact]
    public void Vae_tiny_case_and_intermediates_match_the_README_tables()
    {
        using var file = SafetensorsFile.Open(Fixtures.PathOf("vae-tiny", "case.safetensors"));
        var latent = new long[] { 1, 4, 16, 16 };
        var expected = new Dictionary<string, long[]>
        {
            ["input.image"] = [1, 3, 32, 32], ["output.posterior_mean"] = latent, ["output.posterior_logvar"] = latent,
            ["output.posterior_std"] = latent, ["input.posterior_noise"] = latent, ["output.posterior_sample"] = latent,
            ["output.decode_sample"] = [1, 3, 32, 32],
        };
        Assert.Equal(expected.Keys.Order(), file.Names.Order());
        AssertShapes(file, expected);

        using var intermediates = SafetensorsFile.Open(Fixtures.PathOf("vae-tiny", "intermediates.safetensors"));
        var steps = new Dictionary<string, long[]>
        {
            ["encoder.conv_in"] = [1, 32, 32, 32], ["encoder.down_blocks.0.resnets.0"] = [1, 32, 32, 32], ["encoder.down_blocks.0"] = [1, 32, 16, 16],
            ["encoder.down_blocks.1"] = [1, 64, 16, 16], ["encoder.mid_block.attentions.0"] = [1, 64, 16, 16], ["encoder.mid_block"] = [1, 64, 16, 16],
            ["encoder.conv_norm_out"] = [1, 64, 16, 16], ["encoder.conv_out"] = [1, 8, 16, 16], ["quant_conv"] = [1, 8, 16, 16],
            ["post_quant_conv"] = [1, 4, 16, 16], ["decoder.conv_in"] = [1, 64, 16, 16], ["decoder.mid_block"] = [1, 64, 16, 16],
            ["decoder.up_blocks.0"] = [1, 64, 32, 32], ["decoder.up_blocks.1"] = [1, 32, 32, 32], ["decoder.conv_norm_out"] = [1, 32, 32, 32],
            ["decoder.conv_out"] = [1, 3, 32, 32],
        };
        Assert.Equal(steps.Keys.Order(), intermediates.Names.Order());
        AssertShapes(intermediates, steps);
    }

    [Fact]
    public void Clip_text_tiny_model_has_the_36_README_keys()
    {
        using var file = SafetensorsFile.Open(Fixtures.PathOf("clip-text-tiny", "model.safetensors"));
        var expected = new Dictionary<string, long[]>
        {
            ["text_model.embeddings.token_embedding.weight"] = [49408, 32],
            ["text_model.embeddings.position_embedding.weight"] = [77, 32],
            ["text_model.final_layer_norm.weight"] = [32],
            ["text_model.final_layer_norm.bias"] = [32],
        };
        foreach (var i in new[] { 0, 1 })
        {
            var layer = $"text_model.encoder.layers.{i}";
            foreach (var projection in new[] { "q", "k", "v", "out" })
            {
                expected[$"{layer}.self_attn.{projection}_proj.weight"] = [32, 32];
                expected[$"{layer}.self_attn.{projection}_proj.bias"] = [32];
            }
            foreach (var norm in new[] { "layer_norm1", "layer_norm2" })
            {
                expected[$"{layer}.{norm}.weight"] = [32];
                expected[$"{layer}.{norm}.bias"] = [32];
            }
            expected[$"{layer}.mlp.fc1.weight"] = [37, 32];
            expected[$"{layer}.mlp.fc1.bias"] = [37];
            expected[$"{layer}.mlp.fc2.weight"] = [32, 37];
            expected[$"{layer}.mlp.fc2.bias"] = [32];
        }
        Assert.Equal(36, expected.Count);
        Assert.Equal(expected.Keys.Order(), file.Names.Order());
        AssertShapes(file, expected);
    }

    [Fact]
    public void Clip_text_tiny_case_holds_I64_ids_and_eos_positions()
    {
        using var file = SafetensorsFile.Open(Fixtures.PathOf("clip-text-tiny", "case.safetensors"));
        AssertShapes(file, new Dictionary<string, long[]> { ["input_ids"] = [2, 77], ["input_ids_pad0"] = [2, 77], ["eos_position"] = [2] }, SafetensorsDType.I64);
        Assert.Equal([6, 76], Values(file, "eos_position"));
        var ids = Values(file, "input_ids");
        // The pooled row is the eos (49407, the largest id); SD 1.x pads with 49407 after it, SD 2.x with 0.
        Assert.Equal(49407, ids[6]);
        Assert.Equal(ids.Max(), ids[6]);
        Assert.Equal(0, Values(file, "input_ids_pad0")[7]);
        AssertShapes(file, new Dictionary<string, long[]>
        {
            ["hidden_states.0"] = [2, 77, 32], ["last_hidden_state"] = [2, 77, 32], ["pooled_output"] = [2, 32], ["clip_skip_1"] = [2, 77, 32],
            ["pad0.pooled_output"] = [2, 32], ["gelu.last_hidden_state"] = [2, 77, 32],
        });
    }

    [Theory]
    [InlineData("ddpm", new long[] { 900, 800, 700, 600, 500, 400, 300, 200, 100, 0 })]
    [InlineData("ddim-epsilon", new long[] { 901, 801, 701, 601, 501, 401, 301, 201, 101, 1 })]
    [InlineData("ddim-v_prediction", new long[] { 901, 801, 701, 601, 501, 401, 301, 201, 101, 1 })]
    public void Scheduler_tensors_match_the_README_table(string scheduler, long[] loopTimesteps)
    {
        using var scope = NewDisposeScope();
        using var file = SafetensorsFile.Open(Fixtures.PathOf("schedulers", scheduler, "tensors.safetensors"));
        Assert.Equal([0, 1, 250, 499, 999], Values(file, "add_noise.timesteps"));
        Assert.Equal(loopTimesteps, Values(file, "loop.timesteps"));
        AssertShapes(file, new Dictionary<string, long[]>
        {
            ["betas"] = [1000], ["alphas_cumprod"] = [1000],
            ["add_noise.original_samples"] = [5, 4, 8, 8], ["add_noise.noise"] = [5, 4, 8, 8], ["add_noise.noisy_samples"] = [5, 4, 8, 8],
            ["get_velocity.velocity"] = [5, 4, 8, 8],
            ["loop.sample_in"] = [10, 1, 4, 8, 8], ["loop.model_output"] = [10, 1, 4, 8, 8], ["loop.prev_sample"] = [10, 1, 4, 8, 8],
        });
        // "get_velocity.sample/.noise/.timesteps: the same tensors as add_noise.*"
        AssertSameTensor(file.Load("get_velocity.sample"), file.Load("add_noise.original_samples"));
        AssertSameTensor(file.Load("get_velocity.noise"), file.Load("add_noise.noise"));
        Assert.Equal(Values(file, "add_noise.timesteps"), Values(file, "get_velocity.timesteps"));
        if (scheduler.StartsWith("ddim"))
        {
            // "final_alpha_cumprod = alphas_cumprod[0] because set_alpha_to_one=False"
            Assert.Equal(new long[] { 1 }, file.Info("final_alpha_cumprod").Shape);
            Assert.Equal(file.Load("alphas_cumprod")[0].item<float>(), file.Load("final_alpha_cumprod")[0].item<float>());
        }
        else
        {
            AssertShapes(file, new Dictionary<string, long[]> { ["alphas"] = [1000], ["loop.variance_noise"] = [10, 1, 4, 8, 8] });
        }
    }

    [Fact]
    public void Peft_base_model_and_inputs_match_the_README()
    {
        using var baseModel = SafetensorsFile.Open(Fixtures.PathOf("peft", "base_model.safetensors"));
        Assert.Equal(60, baseModel.Tensors.Count);
        // Conv2d(4, 16, k=3), Linear(32, 37), Linear(20, 32, bias=False) from the README's module table.
        AssertShapes(baseModel, new Dictionary<string, long[]>
        {
            ["unet.conv_in.weight"] = [16, 4, 3, 3],
            ["text_encoder.layers.0.mlp.fc1.weight"] = [37, 32],
            ["unet.down_block.attentions.0.transformer_blocks.0.attn2.to_k.weight"] = [32, 20],
        });
        Assert.False(baseModel.Contains("unet.down_block.attentions.0.transformer_blocks.0.attn2.to_k.bias"));

        using var inputs = SafetensorsFile.Open(Fixtures.PathOf("peft", "inputs.safetensors"));
        var expected = new Dictionary<string, long[]>
        {
            ["sample"] = [2, 4, 4, 4], ["temb_in"] = [2, 8], ["encoder_hidden_states"] = [2, 5, 20], ["text_hidden"] = [2, 7, 32],
            ["target_unet"] = [2, 24, 2, 2], ["target_text"] = [2, 7, 32], ["base.unet"] = [2, 24, 2, 2], ["base.text"] = [2, 7, 32], ["base.loss"] = [1],
        };
        Assert.Equal(expected.Keys.Order(), inputs.Names.Order());
        AssertShapes(inputs, expected);
    }

    [Theory]
    [InlineData("lora")]
    [InlineData("lora_text_rslora_patterns")]
    [InlineData("lora_bias_lora_only")]
    [InlineData("loha")]
    [InlineData("loha_effconv")]
    [InlineData("lokr")]
    [InlineData("lokr_both")]
    [InlineData("lokr_f4")]
    [InlineData("lokr_both_f4")]
    [InlineData("lokr_noeff")]
    public void Peft_case_has_a_gradient_for_every_saved_adapter_tensor(string @case)
    {
        // "grad.<saved key>: d loss / d adapter tensor, same key (and shape) as in adapter_model.safetensors"
        using var adapter = SafetensorsFile.Open(Fixtures.PathOf("peft", "cases", @case, "adapter_model.safetensors"));
        using var file = SafetensorsFile.Open(Fixtures.PathOf("peft", "cases", @case, "case.safetensors"));
        Assert.NotEmpty(adapter.Tensors);
        foreach (var info in adapter.Tensors)
            Assert.Equal(info.Shape, file.Info($"grad.{info.Name}").Shape);
        AssertShapes(file, new Dictionary<string, long[]>
        {
            ["adapted.unet"] = [2, 24, 2, 2], ["adapted.text"] = [2, 7, 32], ["loss"] = [1], ["merged.unet"] = [2, 24, 2, 2], ["merged.text"] = [2, 7, 32],
        });
    }
}
