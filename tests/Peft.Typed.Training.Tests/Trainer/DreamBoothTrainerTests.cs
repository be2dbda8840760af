using Peft.Typed.Training;
using Peft.Typed.Training.Optimization;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Tests.Trainer;

[Collection(TrainerCollection.Name)]
public sealed class DreamBoothTrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Trait("Category", "Slow")]
    [Fact]
    public void Loss_falls_on_the_bundled_images_and_outputs_are_written()
    {
        var observer = new RecordingObserver();
        var options = TrainerFixture.Options(Path.Combine(_dir, "run")) with { MaxTrainSteps = 60 };
        var result = new DreamBoothTrainer(options, observer).Run();

        Assert.Equal(60, result.Steps);
        int fifth = result.Losses.Count / 5;
        double first = result.Losses.Take(fifth).Average(), last = result.Losses.TakeLast(fifth).Average();
        Assert.True(last < first, $"mean loss of the last 20% ({last}) is not below the first 20% ({first})");
        Assert.True(File.Exists(Path.Combine(result.UnetAdapterDir, "adapter_config.json")));
        Assert.True(File.Exists(Path.Combine(result.UnetAdapterDir, "adapter_model.safetensors")));
        // As PEFT's save_pretrained writes them for a diffusers UNet loaded from a folder.
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(result.UnetAdapterDir, "adapter_config.json")))!;
        Assert.Equal(options.PretrainedModel, config["base_model_name_or_path"]!.GetValue<string>());
        Assert.Equal("UNet2DConditionModel", config["auto_mapping"]!["base_model_class"]!.GetValue<string>());
        Assert.Equal("diffusers.models.unets.unet_2d_condition", config["auto_mapping"]!["parent_library"]!.GetValue<string>());
        Assert.True(File.Exists(result.LossCurve));
        Assert.Contains(observer.Messages, m => m.StartsWith("UNet: trainable params: ", StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(1, 60), observer.Steps.Select(s => s.Step));
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void The_text_encoder_trains_at_its_own_learning_rate()
    {
        // LoRA's B starts at zero and Adam's first steps move a weight by about the learning rate, so after two steps
        // |B| is near 2 × each component's rate: 1e-3 for the UNet, 1e-9 for the text encoder.
        var options = TrainerFixture.Options(_dir) with
        {
            MaxTrainSteps = 2,
            LearningRate = 1e-3,
            TextEncoderLearningRate = 1e-9,
            TextEncoderWeightDecay = 0,
            TextEncoderAdapter = new Models.Adapters.Lora.LoraConfig { R = 4, LoraAlpha = 4, TargetModules = SeedTargets.TextEncoderComprehensive },
        };
        var result = new DreamBoothTrainer(options, new RecordingObserver()).Run();

        static float MaxB(string dir) => TrainerFixture.AdapterWeights(dir).Where(w => w.Key.Contains("lora_B", StringComparison.Ordinal)).Max(w => w.Value.Max(Math.Abs));
        float unet = MaxB(result.UnetAdapterDir), textEncoder = MaxB(result.TextEncoderAdapterDir!);
        Assert.InRange(unet, 5e-4f, 2.5e-3f);
        Assert.InRange(textEncoder, 5e-10f, 2.5e-9f);
    }

    [Fact]
    public void Prodigy_trains_the_text_encoder_at_the_learning_rate_and_says_so()
    {
        var observer = new RecordingObserver();
        var options = TrainerFixture.Options(_dir) with
        {
            MaxTrainSteps = 1,
            Optimizer = OptimizerKind.Prodigy,
            LearningRate = 1.0,
            TextEncoderLearningRate = 0.5,
            TextEncoderAdapter = new Models.Adapters.Lora.LoraConfig { R = 4, LoraAlpha = 4, TargetModules = SeedTargets.TextEncoderComprehensive },
        };
        new DreamBoothTrainer(options, observer).Run();
        Assert.Contains("warning: --text_encoder_lr 0.5 is not used with Prodigy, which learns one step size for all parameters; the text encoders train at --learning_rate 1.", observer.Messages);
    }

    [Fact]
    public void Repeats_make_each_instance_image_count_that_many_times_per_epoch()
    {
        var observer = new RecordingObserver();
        var images = Directory.GetFiles(TrainerFixture.Options(_dir).InstanceDataDir).Length;
        var options = TrainerFixture.Options(_dir) with { Repeats = 3, NumTrainEpochs = 1, TrainBatchSize = 1 };
        var result = new DreamBoothTrainer(options, observer).Run();

        Assert.Equal(3 * images, result.Steps);
        Assert.Contains(observer.Messages, m => m.Contains($"(1 epoch(s) of {3 * images} examples, batch 1,", StringComparison.Ordinal));
    }

    [Fact]
    public void Validation_epochs_validate_after_epochs_0_n_2n_and_at_the_end()
    {
        var images = Directory.GetFiles(TrainerFixture.Options(_dir).InstanceDataDir).Length;
        // One step per epoch: epochs 0..4 end at steps 1..5; every 2nd epoch validates (0, 2 → steps 1, 3; epoch 4 is
        // the last, whose images the final validation makes), and no --validation_steps schedule runs beside it.
        var options = TrainerFixture.Options(_dir) with
        {
            TrainBatchSize = images, NumTrainEpochs = 5, ValidationEpochs = 2, ValidationSteps = 1,
            ValidationPrompt = "a photo of sks toy", NumValidationImages = 1, InferenceSteps = 2,
        };
        var result = new DreamBoothTrainer(options, new RecordingObserver()).Run();

        Assert.Equal(5, result.Steps);
        var written = Directory.GetFiles(Path.Combine(options.OutputDir, "validation")).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(["step-000001.png", "step-000003.png", "step-000005.png"], written);
    }

    [Fact]
    public void Four_accumulated_batches_of_one_equal_one_batch_of_four()
    {
        // A large Adam epsilon makes the update proportional to the gradient (Adam's first step is otherwise
        // sign(g)·lr, which turns float rounding in near-zero gradients into lr-sized differences).
        var baseOptions = TrainerFixture.Options(_dir) with { MaxTrainSteps = 2, AdamEpsilon = 1.0 };
        var batch = new DreamBoothTrainer(baseOptions with { OutputDir = Path.Combine(_dir, "batch"), TrainBatchSize = 4 }, new RecordingObserver()).Run();
        var accumulated = new DreamBoothTrainer(baseOptions with { OutputDir = Path.Combine(_dir, "accum"), TrainBatchSize = 1, GradientAccumulationSteps = 4 }, new RecordingObserver()).Run();

        Assert.Equal(batch.Losses.Count, accumulated.Losses.Count);
        for (int i = 0; i < batch.Losses.Count; i++) Assert.Equal(batch.Losses[i], accumulated.Losses[i], 4);
        var difference = TrainerFixture.MaxDifference(TrainerFixture.AdapterWeights(batch.UnetAdapterDir), TrainerFixture.AdapterWeights(accumulated.UnetAdapterDir));
        Assert.True(difference < 1e-5f, $"adapter weights differ by {difference}");
    }

    [Trait("Category", "Slow")]
    [Theory]
    [InlineData(OptimizerKind.AdamW)]
    [InlineData(OptimizerKind.Prodigy)]
    public void Resuming_from_a_checkpoint_ends_with_the_weights_of_an_uninterrupted_run(OptimizerKind optimizer)
    {
        var options = TrainerFixture.Options(_dir) with { MaxTrainSteps = 6, CheckpointingSteps = 3, Optimizer = optimizer };
        if (optimizer == OptimizerKind.Prodigy) options = options with { LearningRate = 1.0, Prodigy = new ProdigyOptions { UseBiasCorrection = true } };
        var full = new DreamBoothTrainer(options with { OutputDir = Path.Combine(_dir, "full") }, new RecordingObserver()).Run();

        // A run stopped right after its step-3 checkpoint (cancelled at the next step), then resumed from "latest".
        var partialDir = Path.Combine(_dir, "partial");
        using var stop = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => new DreamBoothTrainer(options with { OutputDir = partialDir }, new CancelAfterStep(3, stop)).Run(stop.Token));
        Assert.True(Directory.Exists(Path.Combine(partialDir, "checkpoint-3")));
        Assert.False(Directory.Exists(Path.Combine(partialDir, "unet")));

        var resumed = new DreamBoothTrainer(options with { OutputDir = partialDir, ResumeFromCheckpoint = "latest" }, new RecordingObserver()).Run();
        Assert.Equal(6, resumed.Steps);
        Assert.Equal(full.Losses, resumed.Losses);
        Assert.True(TrainerFixture.MaxDifference(TrainerFixture.AdapterWeights(full.UnetAdapterDir), TrainerFixture.AdapterWeights(resumed.UnetAdapterDir)) <= 1e-6f);
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void A_folder_with_mixed_captioned_and_uncaptioned_images_trains_each_image_on_its_prompt()
    {
        string Folder(string name, Action<string> addCaptions)
        {
            var folder = Path.Combine(_dir, name);
            Directory.CreateDirectory(folder);
            foreach (var image in Directory.GetFiles(TrainerFixture.Options(_dir).InstanceDataDir, "*.png"))
                File.Copy(image, Path.Combine(folder, Path.GetFileName(image)));
            addCaptions(folder);
            return folder;
        }

        var options = TrainerFixture.Options(_dir) with { MaxTrainSteps = 2 };
        DreamBoothResult Train(string name, string folder, RecordingObserver observer) =>
            new DreamBoothTrainer(options with { InstanceDataDir = folder, OutputDir = Path.Combine(_dir, name) }, observer).Run();

        var plain = Train("plain", Folder("plain-images", _ => { }), new RecordingObserver());
        // Every image captioned with the instance prompt itself: the same numbers as no captions at all.
        var sameObserver = new RecordingObserver();
        var same = Train("same", Folder("same-images", f =>
        {
            foreach (var image in Directory.GetFiles(f, "*.png")) File.WriteAllText(Path.ChangeExtension(image, ".txt"), options.InstancePrompt);
        }), sameObserver);
        Assert.Contains("Captions: 4 of 4 instance images have their own; the others use --instance_prompt.", sameObserver.Messages);
        Assert.Equal(plain.Losses, same.Losses);

        // The second image has a caption file, the third a metadata.jsonl line longer than the text encoder takes
        // (5 + 80 + 1 words of one token each); the others none.
        var long_ = "a photo of sks toy " + string.Join(' ', Enumerable.Repeat("very", 80)) + " small";
        var mixedObserver = new RecordingObserver();
        var mixedFolder = Folder("mixed-images", f =>
        {
            var images = Directory.GetFiles(f, "*.png").Order(StringComparer.Ordinal).ToList();
            File.WriteAllText(Path.ChangeExtension(images[1], ".caption"), "a watercolor painting of a dragon");
            File.WriteAllText(Path.Combine(f, "metadata.jsonl"), $$"""{"file_name": "{{Path.GetFileName(images[2])}}", "text": "{{long_}}"}""");
        });
        var mixed = Train("mixed", mixedFolder, mixedObserver);
        Assert.Equal(2, mixed.Steps);
        Assert.Contains("Captions: 2 of 4 instance images have their own; the others use --instance_prompt.", mixedObserver.Messages);
        var warning = Assert.Single(mixedObserver.Messages, m => m.StartsWith("warning: ", StringComparison.Ordinal));
        Assert.Equal($"warning: The caption from '{Path.Combine(mixedFolder, "metadata.jsonl")} line 1' has 86 tokens; the text encoder takes 75, so the rest is cut off.", warning);
        Assert.NotEqual(plain.Losses, mixed.Losses);

        // Encoded once per distinct prompt up front, the captions give the same losses.
        var precomputed = new DreamBoothTrainer(options with { InstanceDataDir = mixedFolder, OutputDir = Path.Combine(_dir, "precomputed"), PreComputeTextEmbeddings = true }, new RecordingObserver()).Run();
        Assert.Equal(mixed.Losses.Count, precomputed.Losses.Count);
        for (int i = 0; i < mixed.Losses.Count; i++) Assert.Equal(mixed.Losses[i], precomputed.Losses[i], 5);
    }

    [Fact]
    public void A_diverging_loss_stops_the_run_and_keeps_the_last_checkpoint()
    {
        // A learning rate of 1e30 sends the adapter weights (Adam moves each by about lr per step) far beyond float
        // range, so the forward after the first update overflows and the loss is no longer finite.
        var output = Path.Combine(_dir, "diverged");
        var options = TrainerFixture.Options(output) with { MaxTrainSteps = 5, CheckpointingSteps = 1, LearningRate = 1e30 };
        var observer = new RecordingObserver();

        var ex = Assert.Throws<TrainingDivergedException>(() => new DreamBoothTrainer(options, observer).Run());

        int lastStep = observer.Steps[^1].Step;
        var lastCheckpoint = Path.Combine(output, $"checkpoint-{lastStep}");
        Assert.True(lastStep < 5, "the run should have stopped before its last step");
        Assert.Matches($@"^The loss became (NaN|-?∞|-?Infinity) at step {lastStep + 1}; training stopped\. ", ex.Message);
        Assert.EndsWith($"The last good checkpoint is '{lastCheckpoint}' (resume with --resume_from_checkpoint latest).", ex.Message);
        Assert.True(File.Exists(Path.Combine(lastCheckpoint, "unet", "adapter_model.safetensors")));
        Assert.False(Directory.Exists(Path.Combine(output, "unet")), "no final adapter is written for a diverged run");
    }

    [Fact]
    public void An_output_folder_holding_a_previous_run_is_refused()
    {
        var output = Path.Combine(_dir, "taken");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "keep.txt"), "previous run");
        var ex = Assert.Throws<DreamBoothOptionException>(() => new DreamBoothTrainer(TrainerFixture.Options(output) with { MaxTrainSteps = 1 }, new RecordingObserver()).Run());
        Assert.Equal("output_dir", ex.Option);
        Assert.Equal($"--output_dir '{output}' already holds a previous run; pass --overwrite to replace it or --resume_from_checkpoint latest to continue it.", ex.Message);
        Assert.Equal("previous run", File.ReadAllText(Path.Combine(output, "keep.txt")));
    }

    [SkippableFact]
    public void Cuda_without_the_cuda_backend_says_how_to_enable_it()
    {
        Skip.If(cuda.is_available(), "the message is for machines without CUDA, and this one has it");
        var ex = Assert.Throws<DreamBoothOptionException>(() => new DreamBoothTrainer(TrainerFixture.Options(Path.Combine(_dir, "cuda")) with { Device = "cuda" }, new RecordingObserver()).Run());
        Assert.Equal("--device cuda: CUDA is not available to TorchSharp here. Build with -p:TorchBackend=cuda (TorchSharp-cuda-linux or TorchSharp-cuda-windows) on a machine with an NVIDIA driver, or use --device cpu.", ex.Message);
    }

    [Fact]
    public void A_bad_option_value_names_the_option()
    {
        var ex = Assert.Throws<DreamBoothOptionException>(() => new DreamBoothTrainer(TrainerFixture.Options(Path.Combine(_dir, "bad")) with { Resolution = 60 }, new RecordingObserver()).Run());
        Assert.Equal("resolution", ex.Option);
        Assert.Equal("--resolution 60: must be a positive multiple of 8", ex.Message);
    }

    [Fact]
    public void A_fixed_thread_count_and_adapting_it_to_the_load_are_refused_together()
    {
        var ex = Assert.Throws<DreamBoothOptionException>(() => new DreamBoothTrainer(TrainerFixture.Options(Path.Combine(_dir, "threads")) with { NumThreads = 2, AdaptThreadsToLoad = true }, new RecordingObserver()).Run());
        Assert.Equal("num_threads", ex.Option);
        Assert.Equal("--num_threads 2: fixes the thread count: it cannot be combined with adapting it to the load", ex.Message);
    }

    [Fact]
    public void The_merged_unet_keeps_the_dtype_of_an_fp16_base_checkpoint()
    {
        var model = TrainerFixture.CopyDefaultModel(Path.Combine(_dir, "fp16-model"));
        var weights = Path.Combine(model, "unet", "diffusion_pytorch_model.safetensors");
        using (var scope = NewDisposeScope())
        {
            var half = Models.SafeTensors.SafetensorsFile.LoadAll(weights).ToDictionary(kv => kv.Key, kv => kv.Value.to_type(ScalarType.Float16));
            Models.SafeTensors.SafetensorsWriter.Save(weights, half);
        }

        var options = TrainerFixture.Options(Path.Combine(_dir, "merged")) with { PretrainedModel = model, MaxTrainSteps = 1, SaveMergedUnet = true };
        var result = new DreamBoothTrainer(options, new RecordingObserver()).Run();

        using var merged = Models.SafeTensors.SafetensorsFile.Open(Path.Combine(result.MergedUnetDir!, "diffusion_pytorch_model.safetensors"));
        Assert.All(merged.Tensors, t => Assert.Equal(Models.SafeTensors.SafetensorsDType.F16, t.DType));
        using var unet = Models.Unet.UNet2DConditionModel.FromPretrained(result.MergedUnetDir!);
    }
}
