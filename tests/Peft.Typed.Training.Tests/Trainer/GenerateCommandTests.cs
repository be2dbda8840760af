using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Unet;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Tests.Trainer;

/// <summary>The trainer executable's <c>generate</c> command on the embedded default, run as a user runs it.</summary>
[Trait("Category", "Slow")]
[Collection(TrainerCollection.Name)]
public sealed class GenerateCommandTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-generate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int ExitCode, string Log, IReadOnlyList<string> Errors) Generate(params string[] arguments) =>
        ChildProcess.Run(ChildProcess.Executable("TrainerExecutable"), ["generate", "--num_inference_steps", "3", "--num_images", "2", .. arguments], Timeout);

    /// <summary>A random UNet LoRA on the embedded model, saved as the trainer saves its output folder.</summary>
    private string Adapter(string name, int seed)
    {
        var folder = Path.Combine(_dir, name);
        using var unet = UNet2DConditionModel.FromPretrained(Path.Combine(TrainerFixture.DefaultModel, "model", "unet"));
        manual_seed(seed);
        var peft = PeftModel.Create(unet, new LoraConfig { R = 4, LoraAlpha = 4, InitLoraWeights = LoraInit.Random, TargetModules = TargetModules.FromNames("to_q", "to_v") });
        using (no_grad())
        {
            foreach (var (key, tensor) in peft.GetAdapterStateDict())
            {
                if (key.Contains("lora_B", StringComparison.Ordinal)) tensor.MulInPlace(0.05);
            }
        }
        peft.SavePretrained(Path.Combine(folder, "unet"));
        return folder;
    }

    [Fact]
    public void Two_adapters_at_weights_write_the_same_images_for_the_same_seed()
    {
        var first = Adapter("first", 1);
        var second = Adapter("second", 2);
        var runs = new[] { "a", "b" }.Select(run =>
        {
            var output = Path.Combine(_dir, run);
            var (code, log, _) = Generate("--lora", first + ":0.7", "--lora", second + ":0.3", "--seed", "5", "--output_dir", output);
            Assert.True(code == 0, log);
            Assert.Contains($"Adapter lora1: {second} at weight 0.3", log);
            return output;
        }).ToList();

        foreach (var file in new[] { "image-0.png", "image-1.png", "grid.png" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(runs[0], file)), File.ReadAllBytes(Path.Combine(runs[1], file)));

        var plain = Path.Combine(_dir, "plain");
        Assert.Equal(0, Generate("--seed", "5", "--output_dir", plain).ExitCode);
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(plain, "grid.png")), File.ReadAllBytes(Path.Combine(runs[0], "grid.png")));
    }

    [Fact]
    public void A_folder_without_an_adapter_is_one_line()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;
        var (code, log, errors) = Generate("--lora", empty, "--output_dir", Path.Combine(_dir, "out"));
        Assert.True(code == 1, log);
        Assert.Equal($"error: {empty}: the folder holds no PEFT adapter: no adapter_config.json in it or in a sub-folder (unet/, text_encoder/, ...).", Assert.Single(errors));
        Assert.False(Directory.Exists(Path.Combine(_dir, "out")));
    }
}
