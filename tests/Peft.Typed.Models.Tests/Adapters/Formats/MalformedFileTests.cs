using Peft.Typed.Models.Adapters.Formats;
using Peft.Typed.Models.SafeTensors;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.Formats;

/// <summary>Files that must not load, each with its message: nothing loads partially.</summary>
public sealed class MalformedFileTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("peft-formats-");

    public void Dispose() => _dir.Delete(recursive: true);

    /// <summary>The fixture file <paramref name="source"/> with <paramref name="edit"/> applied, written to a temporary file.</summary>
    private string Edited(string source, Action<Dictionary<string, Tensor>> edit)
    {
        using var scope = NewDisposeScope();
        var tensors = SafetensorsFile.LoadAll(FormatsFixture.PathOf(source));
        edit(tensors);
        var path = Path.Combine(_dir.FullName, "edited.safetensors");
        SafetensorsWriter.Save(path, tensors);
        return path;
    }

    private static AdapterFormatException ReadFails(string path) =>
        Assert.Throws<AdapterFormatException>(() => AdapterFiles.Read(path, FormatsFixture.Catalogs()));

    private const string Conv = "lora_unet_down_blocks_0_resnets_0_conv1";

    [Fact]
    public void A_file_of_no_known_format_names_its_first_keys()
    {
        var path = Edited("kohya/lora.safetensors", t =>
        {
            t.Clear();
            t["model.diffusion_model.input_blocks.0.0.weight"] = zeros(1);
            t["first_stage_model.decoder.conv_in.weight"] = zeros(1);
        });
        var error = Assert.Throws<AdapterFormatException>(() => AdapterFiles.Detect(path));
        Assert.Equal($"{path}: no known adapter format: keys must all be PEFT ('base_model.model.<module>.lora_A.weight'), diffusers ('unet.<module>.lora.down.weight', 'text_encoder.<module>.lora_linear_layer.up.weight', ...) or kohya/LyCORIS ('lora_unet_<module>.lora_down.weight', '.alpha', '.hada_w1_a', '.lokr_w1', ...); first keys: 'first_stage_model.decoder.conv_in.weight', 'model.diffusion_model.input_blocks.0.0.weight'.", error.Message);
        Assert.Equal(error.Message, ReadFails(path).Message);
    }

    [Fact]
    public void Unknown_keys_in_a_kohya_file_are_named()
    {
        var path = Edited("kohya/lora.safetensors", t => t[$"{Conv}.dora_scale"] = ones(1, 32, 1, 1));
        var error = Assert.Throws<AdapterFormatException>(() => AdapterFiles.Detect(path));
        Assert.Equal($"{path}: no known adapter format: keys must all be PEFT ('base_model.model.<module>.lora_A.weight'), diffusers ('unet.<module>.lora.down.weight', 'text_encoder.<module>.lora_linear_layer.up.weight', ...) or kohya/LyCORIS ('lora_unet_<module>.lora_down.weight', '.alpha', '.hada_w1_a', '.lokr_w1', ...); most keys are Kohya keys, but not these: '{Conv}.dora_scale'.", error.Message);
        Assert.Equal([$"{Conv}.dora_scale"], error.Keys);
    }

    [Fact]
    public void A_missing_alpha_among_alphas_is_an_error()
    {
        int modules = 0;
        var path = Edited("kohya/lora.safetensors", t =>
        {
            modules = t.Keys.Count(k => k.StartsWith("lora_unet_", StringComparison.Ordinal) && k.EndsWith(".alpha", StringComparison.Ordinal));
            t.Remove($"{Conv}.alpha");
        });
        Assert.Equal($"{path}: unet: 1 module(s) have no .alpha while {modules - 1} have one: '{Conv}.alpha' missing (a file without any .alpha loads at scale 1; one with some is incomplete).", ReadFails(path).Message);
    }

    [Fact]
    public void A_rank_mismatch_between_down_and_up_is_an_error()
    {
        var key = "lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q";
        var path = Edited("kohya/lora.safetensors", t => t[$"{key}.lora_up.weight"] = zeros(64, 8));
        Assert.Equal($"{path}: '{key}': the down tensor [4, 64] and the up tensor [64, 8] do not fit together (down is [r, in(, kh, kw)], up is [out, r(, 1, 1)]: rank 4 vs 8).", ReadFails(path).Message);
    }

    [Fact]
    public void A_missing_up_tensor_is_an_error()
    {
        var path = Edited("kohya/lora.safetensors", t => t.Remove($"{Conv}.lora_up.weight"));
        Assert.Equal($"{path}: '{Conv}' has lora_down.weight but no lora_up.weight.", ReadFails(path).Message);
    }

    [Fact]
    public void A_kohya_module_the_model_lacks_is_named_with_the_closest_one()
    {
        var path = Edited("kohya/lora.safetensors", t =>
        {
            foreach (var suffix in new[] { "alpha", "lora_down.weight", "lora_up.weight" })
            {
                t[$"lora_unet_down_blocks_0_resnets_7_conv1.{suffix}"] = t[$"{Conv}.{suffix}"];
                t.Remove($"{Conv}.{suffix}");
            }
        });
        var error = ReadFails(path);
        Assert.Equal($"{path}: 1 key(s) name modules that unet does not have: 'lora_unet_down_blocks_0_resnets_7_conv1.alpha' (closest: '{Conv}'). Nothing was loaded.", error.Message);
    }

    [Fact]
    public void A_diffusers_module_the_model_lacks_is_named_with_the_closest_one()
    {
        var path = Edited("diffusers/pytorch_lora_weights.safetensors", t =>
        {
            foreach (var suffix in new[] { "lora_A.weight", "lora_B.weight" })
            {
                t[$"unet.down_blocks.0.resnets.0.conv9.{suffix}"] = t[$"unet.down_blocks.0.resnets.0.conv1.{suffix}"];
                t.Remove($"unet.down_blocks.0.resnets.0.conv1.{suffix}");
            }
        });
        Assert.Equal($"{path}: 1 key(s) name modules that unet does not have: 'unet.down_blocks.0.resnets.0.conv9.lora_A.weight' (closest: 'down_blocks.0.resnets.0.conv1'). Nothing was loaded.", ReadFails(path).Message);
    }

    [Fact]
    public void A_component_without_a_model_is_an_error()
    {
        var path = Edited("kohya/lora.safetensors", t =>
        {
            foreach (var key in t.Keys.Where(k => k.StartsWith("lora_te1_", StringComparison.Ordinal)).ToList())
            {
                t["lora_te2_" + key.Substring("lora_te1_".Length)] = t[key];
                t.Remove(key);
            }
        });
        var error = ReadFails(path);
        Assert.StartsWith($"{path}: the file holds an adapter for 'text_encoder_2' but no model was given for it (given: 'text_encoder', 'unet'); first keys: 'lora_te2_text_model_encoder_layers_0_self_attn_k_proj.alpha', ", error.Message);
    }

    [Fact]
    public void Alphas_of_every_dtype_kohya_files_use_are_read()
    {
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int64 })
        {
            var path = Edited("kohya/lora.safetensors", t =>
            {
                foreach (var key in t.Keys.Where(k => k.EndsWith(".alpha", StringComparison.Ordinal)).ToList()) t[key] = t[key].to_type(dtype);
            });
            var states = AdapterFiles.Read(path, FormatsFixture.Catalogs());
            var unet = Assert.IsType<Models.Adapters.Lora.LoraConfig>(states["unet"].Config);
            var expected = FormatsFixture.CaseJson.Value["unet_config"]!;
            Assert.Equal(((int)expected["r"]!, (double)expected["lora_alpha"]!), (unet.R, unet.LoraAlpha));
        }
    }
}
