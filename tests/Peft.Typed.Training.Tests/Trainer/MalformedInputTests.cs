using Peft.Typed.Models.SafeTensors;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Tests.Trainer;

/// <summary>
/// Bad files as users meet them (truncated or garbled weights, a broken config.json, a missing or mis-shaped checkpoint,
/// a broken adapter, files that are no images): every command ends with one line naming the file, a non-zero exit
/// code, no stack trace, and no output folder.
/// </summary>
[Trait("Category", "Slow")]
[Collection(TrainerCollection.Name)]
public sealed class MalformedInputTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-malformed-").FullName;

    public MalformedInputTests() => TrainerFixture.CopyDefaultModel(Model);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Model => Path.Combine(_dir, "model");
    private string Output => Path.Combine(_dir, "out");
    private string UnetWeights => Path.Combine(Model, "unet", "diffusion_pytorch_model.safetensors");
    private string UnetConfig => Path.Combine(Model, "unet", "config.json");

    private static (int ExitCode, string Log, IReadOnlyList<string> Errors) Run(params string[] arguments) =>
        ChildProcess.Run(ChildProcess.Executable("TrainerExecutable"), arguments, Timeout);

    private (int ExitCode, string Log, IReadOnlyList<string> Errors) Train(string? instanceImages = null) => Run(
        "--pretrained_model_name_or_path", Model, "--instance_data_dir", instanceImages ?? Path.Combine(TrainerFixture.DefaultModel, "instance_images"),
        "--instance_prompt", "a photo of sks toy", "--output_dir", Output, "--max_train_steps", "1", "--resolution", "32");

    private (int ExitCode, string Log, IReadOnlyList<string> Errors) Generate(params string[] more) =>
        Run(["generate", "--pretrained_model_name_or_path", Model, "--output_dir", Output, "--num_inference_steps", "2", "--num_images", "1", .. more]);

    private void Break(string kind)
    {
        switch (kind)
        {
            case "truncated weights":
                var bytes = File.ReadAllBytes(UnetWeights);
                File.WriteAllBytes(UnetWeights, bytes[..(bytes.Length / 2)]);
                break;
            case "garbled header":
                var garbled = File.ReadAllBytes(UnetWeights);
                for (int i = 8; i < 48; i++) garbled[i] = (byte)'x';
                File.WriteAllBytes(UnetWeights, garbled);
                break;
            case "malformed config":
                File.WriteAllText(UnetConfig, File.ReadAllText(UnetConfig)[..40]);
                break;
            case "missing weights":
                File.Delete(UnetWeights);
                break;
            case "mis-shaped tensor":
                using (var scope = NewDisposeScope())
                {
                    var tensors = SafetensorsFile.LoadAll(UnetWeights).ToDictionary(kv => kv.Key, kv => kv.Value);
                    tensors["conv_in.bias"] = zeros(tensors["conv_in.bias"].shape[0] + 1);
                    SafetensorsWriter.Save(UnetWeights, tensors);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    private void AssertOneLine((int ExitCode, string Log, IReadOnlyList<string> Errors) run, string names)
    {
        Assert.True(run.ExitCode == 1, $"exit code {run.ExitCode}:\n{run.Log}");
        var line = Assert.Single(run.Errors);
        Assert.StartsWith("error: ", line);
        Assert.Contains(names, line);
        Assert.DoesNotContain("   at ", run.Log);
        Assert.False(Directory.Exists(Output), "a failed run must not create its output folder");
    }

    [Theory]
    [InlineData("truncated weights", "diffusion_pytorch_model.safetensors")]
    [InlineData("garbled header", "diffusion_pytorch_model.safetensors")]
    [InlineData("malformed config", "config.json")]
    [InlineData("missing weights", "unet")]
    [InlineData("mis-shaped tensor", "diffusion_pytorch_model.safetensors")]
    public void A_bad_unet_file_is_one_line_naming_it_in_train_and_generate(string kind, string file)
    {
        Break(kind);
        var named = Path.Combine(Model, "unet", file == "unet" ? "" : file).TrimEnd(Path.DirectorySeparatorChar);
        AssertOneLine(Train(), named);
        AssertOneLine(Generate(), named);
    }

    [Fact]
    public void A_broken_adapter_is_one_line_naming_its_file()
    {
        var adapter = Directory.CreateDirectory(Path.Combine(_dir, "adapter", "unet")).FullName;
        var config = Path.Combine(adapter, "adapter_config.json");
        var weights = Path.Combine(adapter, "adapter_model.safetensors");
        File.WriteAllText(config, """{ "peft_type": "LORA", "r": 4, "lora_alpha": 4, "target_modules": ["to_q"] }""");
        AssertOneLine(Generate("--lora", Path.GetDirectoryName(adapter)!), adapter);

        using (var scope = NewDisposeScope())
            SafetensorsWriter.Save(weights, new Dictionary<string, Tensor> { ["base_model.model.conv_in.lora_A.weight"] = zeros(4, 4, 3, 3) });
        File.WriteAllText(config, "{ \"peft_type\": \"LORA\", \"r\": ");
        AssertOneLine(Generate("--lora", Path.GetDirectoryName(adapter)!), config);

        File.WriteAllText(config, """{ "peft_type": "LORA", "r": 4, "lora_alpha": 4, "target_modules": ["to_q"] }""");
        File.WriteAllBytes(weights, [1, 2, 3]);
        AssertOneLine(Generate("--lora", Path.GetDirectoryName(adapter)!), weights);
    }

    [Fact]
    public void Convert_names_a_file_of_no_known_format_and_a_bad_format_option()
    {
        var file = Path.Combine(_dir, "mystery.safetensors");
        using (var scope = NewDisposeScope())
            SafetensorsWriter.Save(file, new Dictionary<string, Tensor> { ["model.diffusion_model.weight"] = zeros(2, 2) });
        var converted = Path.Combine(Output, "converted.safetensors");
        var unknown = Run("convert", "--input", file, "--output", converted, "--format", "kohya", "--pretrained_model_name_or_path", Model);
        AssertOneLine(unknown, file);

        var (code, log, errors) = Run("convert", "--input", file, "--output", converted, "--format", "ckpt");
        Assert.True(code == 2, log);
        Assert.Equal("error: --format ckpt: must be one of peft, diffusers, kohya", Assert.Single(errors));
    }

    [Fact]
    public void Files_that_are_no_images_are_skipped_with_a_warning_and_none_left_is_one_error()
    {
        var images = Directory.CreateDirectory(Path.Combine(_dir, "images")).FullName;
        File.WriteAllText(Path.Combine(images, "dog.png"), "not a picture");
        var (code, log, errors) = Train(images);
        Assert.True(code == 1, $"exit code {code}:\n{log}");
        Assert.Equal(2, errors.Count);
        Assert.StartsWith("warning: ", errors[0]);
        Assert.Contains(Path.Combine(images, "dog.png"), errors[0]);
        Assert.Equal($"error: --instance_data_dir: folder '{images}' contains no readable image.", errors[1]);
        Assert.False(Directory.Exists(Output));
    }
}
