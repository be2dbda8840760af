using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Unet;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Tests.Trainer;

/// <summary><c>--use_dora</c> / <c>--te_use_dora</c> in the trainer executable (a child process on the embedded default).</summary>
[Collection(TrainerCollection.Name)]
public sealed class DoraTrainingTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-dora-").FullName;
    private string OutputDir => Path.Combine(_dir, "run");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int ExitCode, string Log, IReadOnlyList<string> Errors) Train(params string[] arguments) =>
        ChildProcess.Run(ChildProcess.Executable("TrainerExecutable"), ["--output_dir", OutputDir, "--max_train_steps", "2", .. arguments], Timeout);

    [Fact]
    public void A_short_dora_training_writes_magnitude_vectors_that_load_back()
    {
        var (code, log, _) = Train("--use_dora", "--train_text_encoder", "--te_use_dora");
        Assert.True(code == 0, $"exit code {code}:\n{log}");

        foreach (var folder in new[] { "unet", "text_encoder" })
        {
            var dir = Path.Combine(OutputDir, folder);
            Assert.True(Assert.IsType<LoraConfig>(AdapterConfig.Load(dir)).UseDora, $"{folder}: use_dora");
            var keys = TrainerFixture.AdapterWeights(dir).Keys.ToList();
            var modules = keys.Where(k => k.EndsWith(".lora_A.weight", StringComparison.Ordinal)).Select(k => k[..^".lora_A.weight".Length]).ToList();
            Assert.NotEmpty(modules);
            Assert.Equal(modules.Select(m => m + ".lora_magnitude_vector").Order(), keys.Where(k => k.Contains("lora_magnitude_vector", StringComparison.Ordinal)).Order());
        }

        // The UNet folder loads onto the base UNet (strict: every tensor present with its shape), and its magnitudes
        // trained: they are no longer the base weights' norms they start at.
        var unetDir = Path.Combine(OutputDir, "unet");
        using var unet = UNet2DConditionModel.FromPretrained(Path.Combine(TrainerFixture.DefaultModel, "model", "unet"));
        var peft = PeftModel.FromPretrained(unet, unetDir);
        using var file = SafetensorsFile.Open(Path.Combine(unetDir, PeftModel.WeightsFileName));
        Assert.Contains(peft.AdapterLayers(), l => l.Geometry.IsConv);
        float largestChange = 0;
        foreach (var layer in peft.AdapterLayers())
        {
            var magnitude = Assert.Single(layer.TensorsOf(PeftModel.DefaultAdapterName), t => t.Container == "lora_magnitude_vector").Parameter;
            using var saved = file.Load($"{PeftModel.KeyPrefix}{layer.ModuleName}.lora_magnitude_vector");
            Assert.Equal(saved.data<float>().ToArray(), magnitude.detach().contiguous().data<float>().ToArray());
            var weight = layer.BaseWeight.detach();
            using var norm = weight.reshape(weight.shape[0], -1).Pow(2).sum(1).sqrt();
            largestChange = Math.Max(largestChange, magnitude.detach().reshape(-1).sub(norm).abs().max().item<float>());
        }
        Assert.True(largestChange > 1e-5, $"the magnitudes should have trained (largest change {largestChange})");

        // generate reads the run folder (both components) through the adapter-file layer and samples with it.
        var images = Path.Combine(_dir, "images");
        var generated = ChildProcess.Run(ChildProcess.Executable("TrainerExecutable"),
            ["generate", "--lora", OutputDir, "--num_inference_steps", "2", "--num_images", "1", "--seed", "0", "--output_dir", images], Timeout);
        Assert.True(generated.ExitCode == 0, $"exit code {generated.ExitCode}:\n{generated.Log}");
        Assert.True(File.Exists(Path.Combine(images, "image-0.png")), generated.Log);
    }

    [Fact]
    public void Use_dora_with_another_kind_is_one_line()
    {
        var (code, log, errors) = Train("--adapter", "loha", "--use_dora");
        Assert.True(code == 2, $"exit code {code}:\n{log}");
        Assert.Equal("error: --use_dora: DoRA is a LoRA variant; it needs --adapter lora, not loha", Assert.Single(errors));
        Assert.False(Directory.Exists(OutputDir));
    }
}
