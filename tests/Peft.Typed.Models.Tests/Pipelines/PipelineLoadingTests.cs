using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Models.Tokenizers;
using Peft.Typed.Models.Unet;
using Peft.Typed.Models.Vae;
using Peft.Typed.Models.Tests.Support;
using Peft.Typed.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Pipelines;

/// <summary>Loading a pipeline folder: model_index.json checks, component folders and files named in errors, schedulers from any scheduler config.</summary>
public class PipelineLoadingTests
{
    [Fact]
    public void A_tiny_folder_loads_every_component()
    {
        using var folder = new TinyPipelineFolder();
        using var pipeline = DiffusionPipeline.FromPretrained(folder.Path);

        Assert.IsType<StableDiffusionPipeline>(pipeline);
        Assert.Equal(["text_encoder", "unet", "vae"], pipeline.Models.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(32, pipeline.Unet.Config.CrossAttentionDim.ScalarValue);
        Assert.Equal(0.18215, pipeline.Vae.Config.ScalingFactor);
        Assert.Equal(2, pipeline.VaeScaleFactor);
        Assert.Equal(49408, pipeline.Tokenizer.VocabularySize);
        Assert.Equal(ScalarType.Float32, pipeline.DType);
        Assert.Equal(DeviceType.CPU, pipeline.Device.type);
        Assert.False(pipeline.Unet.training);
        // The models carry the fixture weights.
        using var expected = SafetensorsFile.Open(Fixtures.PathOf("unet-tiny", "diffusion_pytorch_model.safetensors"));
        using var convIn = expected.Load("conv_in.weight");
        Identical.Tensors(convIn, pipeline.Unet.state_dict()["conv_in.weight"]);
    }

    [Fact]
    public void The_sampling_scheduler_comes_from_the_folder_config()
    {
        using var folder = new TinyPipelineFolder();
        using var pipeline = StableDiffusionPipeline.FromPretrained(folder.Path);
        var reference = ModuleFixture.LoadShared(Fixtures.PathOf("schedulers", "ddim-epsilon", "tensors.safetensors"));

        Assert.Equal(1, pipeline.SchedulerConfig.StepsOffset);
        Assert.False(pipeline.SchedulerConfig.SetAlphaToOne);
        Compare.Close(reference["alphas_cumprod"], pipeline.Scheduler.AlphasCumprod, 1e-7, what: "DDIM alphas_cumprod");
    }

    // An SD 1.5 folder ships a PNDMScheduler config: DDIM is built from its betas, as DDIMScheduler.from_config does.
    [Fact]
    public void A_PNDM_scheduler_config_gives_DDIM_with_its_betas()
    {
        using var folder = new TinyPipelineFolder();
        File.WriteAllText(folder.Combine("model_index.json"), TinyPipelineFolder.ModelIndex.Replace("\"DDIMScheduler\"", "\"PNDMScheduler\""));
        File.WriteAllText(folder.Combine("scheduler", "scheduler_config.json"), """
            {
              "_class_name": "PNDMScheduler",
              "_diffusers_version": "0.6.0",
              "beta_end": 0.012,
              "beta_schedule": "scaled_linear",
              "beta_start": 0.00085,
              "num_train_timesteps": 1000,
              "set_alpha_to_one": false,
              "skip_prk_steps": true,
              "steps_offset": 1,
              "trained_betas": null,
              "clip_sample": false
            }
            """);
        using var pipeline = StableDiffusionPipeline.FromPretrained(folder.Path);
        var reference = ModuleFixture.LoadShared(Fixtures.PathOf("schedulers", "ddim-epsilon", "tensors.safetensors"));

        Compare.Close(reference["alphas_cumprod"], pipeline.Scheduler.AlphasCumprod, 1e-7, what: "alphas_cumprod");
        Compare.Close(reference["final_alpha_cumprod"], pipeline.Scheduler.FinalAlphaCumprod.reshape(1), 1e-7, what: "final_alpha_cumprod");
        pipeline.Scheduler.SetTimesteps(10);
        Assert.Equal(reference["loop.timesteps"].data<long>().ToArray(), pipeline.Scheduler.Timesteps.data<long>().ToArray());
    }

    [Fact]
    public void A_missing_component_folder_is_named()
    {
        using var folder = new TinyPipelineFolder();
        Directory.Delete(folder.Combine("unet"), recursive: true);
        var error = Assert.Throws<DirectoryNotFoundException>(() => StableDiffusionPipeline.FromPretrained(folder.Path));
        Assert.Equal($"Pipeline folder '{folder.Path}' has no unet/ folder (model_index.json lists unet as UNet2DConditionModel).", error.Message);
    }

    [Fact]
    public void A_missing_weights_file_is_named()
    {
        using var folder = new TinyPipelineFolder();
        File.Delete(folder.Combine("vae", "diffusion_pytorch_model.safetensors"));
        var error = Assert.Throws<FileNotFoundException>(() => StableDiffusionPipeline.FromPretrained(folder.Path));
        Assert.Equal(
            $"No weights in model folder '{folder.Combine("vae")}': expected diffusion_pytorch_model.safetensors or diffusion_pytorch_model.safetensors.index.json (only safetensors checkpoints are loaded).",
            error.Message);
    }

    [Fact]
    public void A_tokenizer_without_merges_is_named()
    {
        using var folder = new TinyPipelineFolder();
        File.Delete(folder.Combine("tokenizer", "merges.txt"));
        var error = Assert.Throws<FileNotFoundException>(() => StableDiffusionPipeline.FromPretrained(folder.Path));
        Assert.Equal($"Tokenizer folder '{folder.Combine("tokenizer")}' has no merges.txt.", error.Message);
    }

    [Fact]
    public void A_missing_scheduler_config_is_named()
    {
        using var folder = new TinyPipelineFolder();
        File.Delete(folder.Combine("scheduler", "scheduler_config.json"));
        var error = Assert.Throws<FileNotFoundException>(() => StableDiffusionPipeline.FromPretrained(folder.Path));
        Assert.Equal($"Scheduler config '{folder.Combine("scheduler", "scheduler_config.json")}' does not exist.", error.Message);
    }

    [Fact]
    public void A_missing_model_index_is_named()
    {
        using var folder = new TinyPipelineFolder();
        File.Delete(folder.Combine("model_index.json"));
        var error = Assert.Throws<FileNotFoundException>(() => StableDiffusionPipeline.FromPretrained(folder.Path));
        Assert.Equal($"No model_index.json at '{folder.Combine("model_index.json")}': not a diffusers pipeline folder.", error.Message);
    }

    [Fact]
    public void A_missing_pipeline_folder_is_named()
    {
        var path = Path.Combine(Path.GetTempPath(), "peft-typed-no-such-pipeline");
        var error = Assert.Throws<DirectoryNotFoundException>(() => StableDiffusionPipeline.FromPretrained(path));
        Assert.Equal($"Pipeline folder '{path}' does not exist.", error.Message);
    }

    [Fact]
    public void Malformed_model_index_json_is_reported_with_its_path()
    {
        using var folder = new TinyPipelineFolder();
        var path = folder.Combine("model_index.json");
        File.WriteAllText(path, """{ "_class_name": "StableDiffusionPipeline", "unet": ["diffusers", """);
        var error = Assert.Throws<InvalidDataException>(() => StableDiffusionPipeline.FromPretrained(folder.Path));
        Assert.StartsWith($"'{path}' is not valid JSON: ", error.Message);
    }

    [Theory]
    [InlineData("""["diffusers", "UNet2DConditionModel"]""", "[]", "'{0}' must be a JSON object, found Array.")]
    [InlineData("\"_class_name\": \"StableDiffusionPipeline\"", "\"_class_name\": \"StableDiffusionImg2ImgPipeline\"",
        "'{0}': _class_name 'StableDiffusionImg2ImgPipeline' is not supported; expected StableDiffusionPipeline or StableDiffusionXLPipeline.")]
    [InlineData("\"_class_name\": \"StableDiffusionPipeline\",", "", "'{0}' has no _class_name.")]
    [InlineData("\"vae\": [\"diffusers\", \"AutoencoderKL\"]", "\"vae_x\": [\"diffusers\", \"AutoencoderKL\"]",
        "'{0}': StableDiffusionPipeline needs component 'vae', which is missing.")]
    [InlineData("\"vae\": [\"diffusers\", \"AutoencoderKL\"]", "\"vae\": [null, null]", "'{0}': component 'vae' is null; StableDiffusionPipeline needs it.")]
    [InlineData("\"vae\": [\"diffusers\", \"AutoencoderKL\"]", "\"vae\": [\"diffusers\", \"AutoencoderTiny\"]",
        "'{0}': component 'vae' is [\"diffusers\", \"AutoencoderTiny\"]; expected AutoencoderKL.")]
    [InlineData("\"vae\": [\"diffusers\", \"AutoencoderKL\"]", "\"vae\": [\"diffusers\"]", "'{0}': component 'vae' must be [library, class name], found [\"diffusers\"].")]
    [InlineData("[\"diffusers\", \"DDIMScheduler\"]", "[\"diffusers\", \"DDIMPipeline\"]",
        "'{0}': component 'scheduler' is [\"diffusers\", \"DDIMPipeline\"]; expected a diffusers scheduler.")]
    [InlineData("[\"transformers\", \"CLIPTokenizer\"]", "[\"transformers\", \"T5Tokenizer\"]",
        "'{0}': component 'tokenizer' is [\"transformers\", \"T5Tokenizer\"]; expected CLIPTokenizer or CLIPTokenizerFast.")]
    [InlineData("\"requires_safety_checker\": false", "\"force_zeros_for_empty_prompt\": 1",
        "'{0}': force_zeros_for_empty_prompt must be true or false, found 1.")]
    public void An_invalid_model_index_is_reported_with_file_and_key(string find, string replace, string expected)
    {
        using var folder = new TinyPipelineFolder();
        var path = folder.Combine("model_index.json");
        var json = TinyPipelineFolder.ModelIndex;
        Assert.Contains(find, json);
        File.WriteAllText(path, find.StartsWith('[') && replace == "[]" ? "[]" : json.Replace(find, replace));
        var error = Assert.Throws<InvalidDataException>(() => StableDiffusionPipeline.FromPretrained(folder.Path));
        Assert.Equal(string.Format(expected, path), error.Message);
    }

    [Fact]
    public void The_fast_tokenizer_class_and_other_components_are_accepted()
    {
        using var folder = new TinyPipelineFolder();
        var path = folder.Combine("model_index.json");
        File.WriteAllText(path, TinyPipelineFolder.ModelIndex
            .Replace("\"CLIPTokenizer\"", "\"CLIPTokenizerFast\"")
            .Replace("\"safety_checker\": [null, null]", "\"safety_checker\": [\"stable_diffusion\", \"StableDiffusionSafetyChecker\"]"));
        var index = PipelineIndex.FromFile(path);
        Assert.Equal(new PipelineComponent("tokenizer", "transformers", "CLIPTokenizerFast"), index["tokenizer"]);
        Assert.Equal(new PipelineComponent("safety_checker", "stable_diffusion", "StableDiffusionSafetyChecker"), index.Components["safety_checker"]);
        Assert.Null(index.Components["feature_extractor"]);
        Assert.Equal(["scheduler", "tokenizer", "text_encoder", "unet", "vae"], index.RequiredComponents);
        Assert.True(index.ForceZerosForEmptyPrompt);
        Assert.False(index.IsXL);
    }

    [Fact]
    public void Components_that_do_not_fit_together_are_rejected_by_config_values()
    {
        var config = ArchitectureDescription.Parse<ClipTextConfig>(
            File.ReadAllText(Fixtures.PathOf("clip-text-tiny", "config.json")).Replace("\"hidden_size\": 32", "\"hidden_size\": 48"), "text_encoder/config.json");
        using var scope = NewDisposeScope();
        var unet = UNet2DConditionModel.FromPretrained(Fixtures.PathOf("unet-tiny"));
        var vae = AutoencoderKL.FromPretrained(Fixtures.PathOf("vae-tiny"));
        var textEncoder = new CLIPTextModel(config);
        var components = new StableDiffusionComponents(unet, vae, textEncoder, ClipTokenizer.FromFolder(Fixtures.PathOf("clip-tokenizer")), new SchedulerConfig());
        try
        {
            var error = Assert.Throws<ArgumentException>(() => new StableDiffusionPipeline(components));
            Assert.StartsWith("unet cross_attention_dim 32 does not match the text_encoder hidden_size 48.", error.Message);
        }
        finally
        {
            unet.Dispose();
            vae.Dispose();
            textEncoder.Dispose();
        }
    }
}
