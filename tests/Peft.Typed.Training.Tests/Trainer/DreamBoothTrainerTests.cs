using Peft.Typed.Training;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Tests.Trainer;

[Collection(TrainerCollection.Name)]
public sealed class DreamBoothTrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

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

    [Fact]
    public void Resuming_from_a_checkpoint_ends_with_the_weights_of_an_uninterrupted_run()
    {
        var options = TrainerFixture.Options(_dir) with { MaxTrainSteps = 6, CheckpointingSteps = 3 };
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

    [Fact]
    public void Cuda_without_the_cuda_backend_says_how_to_enable_it()
    {
        if (cuda.is_available()) return; // The message is for machines without CUDA.
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
    public void The_merged_unet_keeps_the_dtype_of_an_fp16_base_checkpoint()
    {
        var model = Path.Combine(_dir, "fp16-model");
        var source = Path.Combine(TrainerFixture.DefaultModel, "model");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(model, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
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
