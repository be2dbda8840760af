using System.Text.Json.Nodes;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Unet;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Tests.Trainer;

/// <summary>
/// samples/Peft.Typed.TypedDreamBooth end to end: typed targets (<c>DefaultUnet.Targets.ToQ | ToV</c>) train DreamBooth
/// on the embedded default through the library; the adapters it saves reload with identical weights, and the trainer's
/// command line with the same targets as strings gives the same adapters.
/// </summary>
[Trait("Category", "Slow")]
[Collection(TrainerCollection.Name)]
public sealed class TypedDreamBoothSampleTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private const string Steps = "3";
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-sample-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_typed_sample_trains_its_adapters_reload_and_the_command_line_with_the_same_targets_trains_the_same()
    {
        var typed = Path.Combine(_dir, "typed");
        var sample = ChildProcess.Run(ChildProcess.Executable("TypedDreamBoothExecutable"), [typed, Steps], Timeout);
        Assert.True(sample.ExitCode == 0, sample.Log);
        Assert.Contains($"UNet adapter (PEFT folder): {Path.Combine(typed, "unet")}", sample.Log);

        var cli = Path.Combine(_dir, "cli");
        var trainer = ChildProcess.Run(ChildProcess.Executable("TrainerExecutable"),
        [
            "--output_dir", cli, "--max_train_steps", Steps,
            "--unet_target_modules", "to_q,to_v", "--unet_r", "4", "--unet_alpha", "4",
            "--train_text_encoder", "--te_target_modules", "q_proj,v_proj", "--te_r", "4", "--te_alpha", "4",
            // The sample keeps libtorch's threads; the command line's would follow the load.
            .. TrainerFixture.FixedThreads,
        ], Timeout);
        Assert.True(trainer.ExitCode == 0, trainer.Log);

        foreach (var folder in new[] { "unet", "text_encoder" })
        {
            var fromSample = TrainerFixture.AdapterWeights(Path.Combine(typed, folder));
            var fromCli = TrainerFixture.AdapterWeights(Path.Combine(cli, folder));
            Assert.NotEmpty(fromSample);
            float difference = TrainerFixture.MaxDifference(fromSample, fromCli);
            output.WriteLine($"{folder}: {fromSample.Count} tensors, largest difference {difference}");
            Assert.Equal(0f, difference);
            Assert.Equal(TargetModules(Path.Combine(cli, folder)), TargetModules(Path.Combine(typed, folder)));
        }

        var model = Path.Combine(TrainerFixture.DefaultModel, "model");
        using (var unet = UNet2DConditionModel.FromPretrained(Path.Combine(model, "unet")))
            AssertReloads(unet, Path.Combine(typed, "unet"));
        using (var textEncoder = CLIPTextModel.FromPretrained(Path.Combine(model, "text_encoder")))
            AssertReloads(textEncoder, Path.Combine(typed, "text_encoder"));
    }

    /// <summary>The adapter loaded onto a fresh base model holds exactly the tensors of its file.</summary>
    private static void AssertReloads(nn.Module model, string folder)
    {
        using var scope = NewDisposeScope();
        var peft = PeftModel.FromPretrained(model, folder);
        var saved = SafetensorsFile.LoadAll(Path.Combine(folder, PeftModel.WeightsFileName));
        var loaded = peft.GetAdapterStateDict();
        Assert.Equal(saved.Keys.Order(), loaded.Keys.Order());
        foreach (var (key, tensor) in saved)
        {
            Assert.Equal(tensor.shape, loaded[key].shape);
            Assert.True(tensor.eq(loaded[key].to_type(tensor.dtype)).all().item<bool>(), $"{folder}: {key} differs after reloading");
        }
    }

    private static string[] TargetModules(string folder) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(folder, AdapterConfig.FileName)))!["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()).Order().ToArray();
}
