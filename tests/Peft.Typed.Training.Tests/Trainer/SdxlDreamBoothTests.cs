using Peft.Typed.Architecture.Configs;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Loading;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Models.Unet;
using Peft.Typed.Training.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Tests.Trainer;

/// <summary>DreamBooth on the embedded tiny SDXL pipeline: conditioning, training with both text encoders, resume.</summary>
[Collection(TrainerCollection.Name)]
public sealed class SdxlDreamBoothTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-sdxl-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static LoraConfig TextEncoderLora => new() { R = 4, LoraAlpha = 4, TargetModules = SeedTargets.TextEncoderComprehensive };

    private string WriteImage(string folder, int width, int height)
    {
        Directory.CreateDirectory(folder);
        using var image = new Image<Rgb24>(width, height, new Rgb24(180, 60, 40));
        var path = Path.Combine(folder, $"{width}x{height}.png");
        image.SaveAsPng(path);
        return path;
    }

    /// <summary>What the UNet was called with, copied out of the step's scope.</summary>
    private sealed record UnetCall(float[] HiddenStates, float[] TextEmbeds, float[] TimeIds);

    private static List<UnetCall> Record(UNet2DConditionModel unet, Action run)
    {
        var calls = new List<UnetCall>();
        var hook = unet.register_forward_pre_hook((_, input) =>
        {
            static float[] Values(Tensor t) => t.detach().to_type(ScalarType.Float32).flatten().data<float>().ToArray();
            calls.Add(new UnetCall(Values(input.EncoderHiddenStates), Values(input.TextEmbeds!), Values(input.TimeIds!)));
            return input;
        });
        try
        {
            run();
        }
        finally
        {
            hook.remove();
        }
        return calls;
    }

    [Fact]
    public void The_unet_gets_the_prompts_and_time_ids_of_each_crop_as_the_pipeline_makes_them()
    {
        // Instance 120×80 (w×h) at resolution 32: resized to 48×32, centre crop at left (48 − 32) / 2 = 8, top 0.
        // Class 64×96: resized to 32×48, centre crop at top (48 − 32) / 2 = 8, left 0. Flipping a centre crop keeps it.
        var instance = WriteImage(Path.Combine(_dir, "instance"), 120, 80);
        var cls = WriteImage(Path.Combine(_dir, "class"), 64, 96);
        var options = TrainerFixture.XLOptions(Path.Combine(_dir, "run")) with
        {
            InstanceDataDir = Path.GetDirectoryName(instance)!,
            WithPriorPreservation = true,
            ClassDataDir = Path.GetDirectoryName(cls)!,
            ClassPrompt = "a photo of toy",
            NumClassImages = 1,
            RandomFlip = true,
            TextEncoderAdapter = TextEncoderLora,
        };
        using var models = TrainingModels.Load(options, CPU);
        using var batches = new DreamBoothBatches(options, models, [instance], [cls], [options.InstancePrompt], [options.ClassPrompt]);
        var training = Record(models.Unet, () => batches.TrainStep([new DreamBoothExample(0, 0, Seed: 11)], 1.0));

        var call = Assert.Single(training);
        Assert.Equal([80f, 120, 0, 8, 32, 32, 96, 64, 8, 0, 32, 32], call.TimeIds);

        // One code path with inference: the pipeline's prompt encoding and its time ids for the same size and crop.
        using (var scope = NewDisposeScope())
        {
            using var noGrad = no_grad();
            using var embeddings = models.Pipeline.EncodePrompt([options.InstancePrompt, options.ClassPrompt!], classifierFreeGuidance: false);
            Assert.Equal(embeddings.PromptEmbeds.flatten().data<float>().ToArray(), call.HiddenStates);
            Assert.Equal(embeddings.PooledPromptEmbeds!.flatten().data<float>().ToArray(), call.TextEmbeds);
        }
        models.SetTraining(false);
        var sampling = Record(models.Unet, () => models.Pipeline.Generate(options.InstancePrompt, new GenerationOptions
        {
            NumInferenceSteps = 1,
            GuidanceScale = 1,
            Height = 32,
            Width = 32,
            OriginalSize = (80, 120),
            CropsCoordsTopLeft = (0, 8),
        }).Dispose());
        Assert.Equal(call.TimeIds[..6], Assert.Single(sampling).TimeIds);
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void The_tiny_sdxl_default_trains_both_text_encoders_with_prior_preservation_and_its_adapters_load_back()
    {
        var observer = new RecordingObserver();
        var options = TrainerFixture.XLOptions(Path.Combine(_dir, "run")) with
        {
            MaxTrainSteps = 60,
            WithPriorPreservation = true,
            ClassDataDir = Path.Combine(_dir, "class"),
            ClassPrompt = "a photo of toy",
            NumClassImages = 2,
            SampleBatchSize = 2,
            InferenceSteps = 2,
            TextEncoderAdapter = TextEncoderLora,
        };
        var result = new DreamBoothTrainer(options, observer).Run();

        Assert.Equal(60, result.Steps);
        Assert.Equal(2, Directory.GetFiles(options.ClassDataDir!).Length);
        int fifth = result.Losses.Count / 5;
        double first = result.Losses.Take(fifth).Average(), last = result.Losses.TakeLast(fifth).Average();
        Assert.True(last < first, $"mean loss of the last 20% ({last}) is not below the first 20% ({first})");
        Assert.Contains(observer.Messages, m => m.StartsWith("Text encoder 2: trainable params: ", StringComparison.Ordinal));

        Assert.Equal(Path.Combine(options.OutputDir, "text_encoder"), result.TextEncoderAdapterDir);
        Assert.Equal(Path.Combine(options.OutputDir, "text_encoder_2"), result.TextEncoder2AdapterDir);
        var te2Config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(result.TextEncoder2AdapterDir!, "adapter_config.json")))!;
        Assert.Equal("CLIPTextModelWithProjection", te2Config["auto_mapping"]!["base_model_class"]!.GetValue<string>());

        using var pipeline = StableDiffusionXLPipeline.FromPretrained(options.PretrainedModel);
        var adapters = new PipelineAdapters(pipeline);
        adapters.Load(options.OutputDir, "dreambooth");
        using var scope = NewDisposeScope();
        foreach (var (component, dir) in new[] { ("unet", result.UnetAdapterDir), ("text_encoder", result.TextEncoderAdapterDir!), ("text_encoder_2", result.TextEncoder2AdapterDir!) })
        {
            var saved = TrainerFixture.AdapterWeights(dir);
            Assert.NotEmpty(saved);
            nn.Module model = component switch { "unet" => pipeline.Unet, "text_encoder" => pipeline.TextEncoder, _ => pipeline.TextEncoder2 };
            var loaded = model.state_dict();
            foreach (var (key, values) in saved)
            {
                // base_model.model.<path>.lora_A.weight → <path>.lora_A.dreambooth.weight
                var name = key["base_model.model.".Length..].Replace(".lora_A.weight", ".lora_A.dreambooth.weight", StringComparison.Ordinal)
                    .Replace(".lora_B.weight", ".lora_B.dreambooth.weight", StringComparison.Ordinal);
                Assert.Equal(values, loaded[name].flatten().data<float>().ToArray());
            }
        }
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void Resuming_an_sdxl_run_ends_with_the_weights_of_an_uninterrupted_run()
    {
        var options = TrainerFixture.XLOptions(_dir) with { MaxTrainSteps = 6, CheckpointingSteps = 3, TextEncoderAdapter = TextEncoderLora };
        var full = new DreamBoothTrainer(options with { OutputDir = Path.Combine(_dir, "full") }, new RecordingObserver()).Run();

        var partialDir = Path.Combine(_dir, "partial");
        using var stop = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => new DreamBoothTrainer(options with { OutputDir = partialDir }, new CancelAfterStep(3, stop)).Run(stop.Token));
        Assert.True(Directory.Exists(Path.Combine(partialDir, "checkpoint-3", "text_encoder_2")));

        var resumed = new DreamBoothTrainer(options with { OutputDir = partialDir, ResumeFromCheckpoint = "latest" }, new RecordingObserver()).Run();
        Assert.Equal(full.Losses, resumed.Losses);
        foreach (var component in new[] { "unet", "text_encoder", "text_encoder_2" })
        {
            var difference = TrainerFixture.MaxDifference(TrainerFixture.AdapterWeights(Path.Combine(full.OutputDir, component)),
                TrainerFixture.AdapterWeights(Path.Combine(resumed.OutputDir, component)));
            Assert.True(difference <= 1e-6f, $"{component} differs by {difference}");
        }
    }

    [Fact]
    public void A_separate_vae_folder_replaces_the_pipeline_vae_and_an_upcast_vae_stays_float32_under_mixed_precision()
    {
        var sdVae = Path.Combine(TrainerFixture.DefaultModel, "model", "vae");
        var options = TrainerFixture.XLOptions(_dir) with { PretrainedVae = sdVae, MixedPrecision = MixedPrecision.Bf16 };
        using var models = TrainingModels.Load(options, CPU);
        // The SD model's VAE differs from the SDXL pipeline's own (channels, scaling_factor): the loaded one must be it.
        var sdConfig = PretrainedFolder.ReadConfig<AutoencoderKLConfig>(sdVae);
        Assert.NotEqual(PretrainedFolder.ReadConfig<AutoencoderKLConfig>(Path.Combine(TrainerFixture.XLModel, "vae")).BlockOutChannels, sdConfig.BlockOutChannels);
        Assert.Equal(sdConfig.BlockOutChannels, models.Vae.Config.BlockOutChannels);
        Assert.Equal(sdConfig.ScalingFactor, models.Vae.Config.ScalingFactor);
        Assert.Same(models.Vae, models.Pipeline.Vae);
        Assert.Equal(ScalarType.Float32, models.Vae.parameters().First().dtype);
        Assert.Equal(ScalarType.BFloat16, models.TextEncoder2!.parameters().First().dtype);

        var missing = Assert.Throws<DreamBoothOptionException>(() => TrainingModels.Load(options with { PretrainedVae = Path.Combine(_dir, "none") }, CPU));
        Assert.Equal($"--pretrained_vae_model_name_or_path: folder '{Path.Combine(_dir, "none")}' does not exist.", missing.Message);
    }

    [Fact]
    public void Typed_targets_of_each_sdxl_model_train_and_land_in_their_adapters()
    {
        // Classes generated from the tiny SDXL pipeline's three config.json files (see the .csproj).
        var options = TrainerFixture.XLOptions(Path.Combine(_dir, "run")) with
        {
            MaxTrainSteps = 2,
            UnetAdapter = new LoraConfig { R = 4, LoraAlpha = 4, TargetModules = TinySdxlUnet.Targets.ToK | TinySdxlUnet.Targets.ToV },
            TextEncoderAdapter = new LoraConfig { R = 4, LoraAlpha = 4, TargetModules = TinySdxlTextEncoder.Targets.QProj },
            TextEncoder2Adapter = new LoraConfig { R = 2, LoraAlpha = 2, TargetModules = TinySdxlTextEncoder2.Targets.VProj },
        };
        var result = new DreamBoothTrainer(options, new RecordingObserver()).Run();

        static IEnumerable<string> Adapted(string dir) => TrainerFixture.AdapterWeights(dir).Keys.Select(k => k.Split(".lora_")[0].Split('.')[^1]).Distinct();
        Assert.Equal(["to_k", "to_v"], Adapted(result.UnetAdapterDir).Order(StringComparer.Ordinal));
        Assert.Equal(["q_proj"], Adapted(result.TextEncoderAdapterDir!));
        Assert.Equal(["v_proj"], Adapted(result.TextEncoder2AdapterDir!));
    }

    [Fact]
    public void Typed_text_encoder_targets_alone_do_not_serve_text_encoder_2()
    {
        var options = TrainerFixture.XLOptions(Path.Combine(_dir, "run")) with
        {
            MaxTrainSteps = 1,
            TextEncoderAdapter = new LoraConfig { R = 4, LoraAlpha = 4, TargetModules = TinySdxlTextEncoder.Targets.QProj },
        };
        var error = Assert.Throws<DreamBoothOptionException>(() => new DreamBoothTrainer(options, new RecordingObserver()).Run());
        Assert.StartsWith("--te_target_modules: the targets were selected in TinySdxlTextEncoder, but text_encoder_2 being trained is another architecture (", error.Message);
        Assert.EndsWith("set TextEncoder2Adapter with targets from the class generated from text_encoder_2/config.json.", error.Message);
        Assert.False(Directory.Exists(options.OutputDir));
    }
}
