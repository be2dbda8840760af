using System.Text.Json.Nodes;

namespace Peft.Typed.Training.Tests.Trainer;

/// <summary>
/// The hidden <c>create-default-model</c> command reproduces the shipped embedded model in an empty folder: configs,
/// instance images and the random SDXL weights byte for byte; the pre-trained SD model here as a two-step smoke run
/// (its full run's quality is checked on the shipped weights by ShapesPretrainingTests).
/// </summary>
[Trait("Category", "Slow")]
[Collection(TrainerCollection.Name)]
public sealed class DefaultModelCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-default-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void An_empty_folder_gets_the_configs_images_and_random_weights_of_the_shipped_model()
    {
        var target = Path.Combine(_dir, "DefaultModel");
        var run = ChildProcess.Run(ChildProcess.Executable("TrainerExecutable"), ["create-default-model", target, "--vae_steps", "2", "--unet_steps", "2"], TimeSpan.FromMinutes(5));
        Assert.True(run.ExitCode == 0, run.Log);

        var shipped = TrainerFixture.DefaultModel;
        var files = Directory.EnumerateFiles(shipped, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(shipped, f)).Order().ToList();
        Assert.Equal(files, Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(target, f)).Order());
        // Trained here for two steps only: the SD model's weights and the VAE's measured scaling_factor.
        string[] trained = ["model/unet/diffusion_pytorch_model.safetensors", "model/vae/diffusion_pytorch_model.safetensors", "model/text_encoder/model.safetensors", "model/vae/config.json"];
        Assert.Subset(files.ToHashSet(), trained.ToHashSet());
        foreach (var file in files.Except(trained))
            Assert.True(File.ReadAllBytes(Path.Combine(shipped, file)).SequenceEqual(File.ReadAllBytes(Path.Combine(target, file))), $"{file} differs from the shipped one");
        var shippedVae = JsonNode.Parse(File.ReadAllText(Path.Combine(shipped, "model", "vae", "config.json")))!.AsObject();
        var writtenVae = JsonNode.Parse(File.ReadAllText(Path.Combine(target, "model", "vae", "config.json")))!.AsObject();
        shippedVae.Remove("scaling_factor");
        writtenVae.Remove("scaling_factor");
        Assert.True(JsonNode.DeepEquals(shippedVae, writtenVae), "vae/config.json differs from the shipped one in more than scaling_factor");
    }

    [Fact]
    public void A_step_count_below_one_is_refused_naming_the_option_and_writes_nothing()
    {
        var target = Path.Combine(_dir, "DefaultModel");
        var run = ChildProcess.Run(ChildProcess.Executable("TrainerExecutable"), ["create-default-model", target, "--unet_steps", "0"], TimeSpan.FromMinutes(1));
        Assert.Equal(2, run.ExitCode);
        Assert.Equal(["error: --unet_steps must be at least 1, not 0."], run.Errors);
        Assert.False(Directory.Exists(target));
    }
}
