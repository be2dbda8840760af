using Peft.Typed.Models.Adapters.Formats;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Tests.Trainer;

/// <summary>
/// The trainer's <c>--export_format</c>, the <c>convert</c> command and <c>generate</c> across formats, run as a user
/// runs them: the diffusers file holds PEFT's lora_B × alpha/r, the kohya file PEFT's tensors with alpha, a conversion
/// round trip gives the PEFT tensors back, and generating with the kohya file draws what the PEFT folder draws.
/// </summary>
[Trait("Category", "Slow")]
[Collection(TrainerCollection.Name)]
public sealed class AdapterExportTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-export-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int ExitCode, string Log, IReadOnlyList<string> Errors) Run(params string[] arguments) =>
        ChildProcess.Run(ChildProcess.Executable("TrainerExecutable"), arguments, Timeout);

    [Fact]
    public void Exports_and_conversions_carry_the_trained_numbers()
    {
        var run = Path.Combine(_dir, "run");
        var trained = Run("--output_dir", run, "--max_train_steps", "2", "--unet_alpha", "16", "--train_text_encoder", "--te_target_modules", "minimal",
            "--export_format", "peft,diffusers", "--output_kohya_format");
        Assert.True(trained.ExitCode == 0, trained.Log);
        var diffusersFile = Path.Combine(run, "pytorch_lora_weights.safetensors");
        var kohyaFile = Path.Combine(run, "pytorch_lora_weights_kohya.safetensors");
        Assert.Contains($"Adapter file: {kohyaFile}", trained.Log);

        using var pipeline = StableDiffusionPipeline.FromPretrained(Path.Combine(TrainerFixture.DefaultModel, "model"));
        var catalogs = PipelineAdapters.Catalogs(pipeline);
        using var scope = NewDisposeScope();
        var peft = AdapterFiles.Read(run, catalogs);
        Assert.Equal(["text_encoder", "unet"], peft.Keys.Order());

        // kohya carries the tensors and alpha as they are; diffusers folds alpha / r (16 / 8 on the UNet) into lora_B.
        AssertSame(peft, AdapterFiles.Read(kohyaFile, catalogs), foldedScale: 1);
        AssertSame(peft, AdapterFiles.Read(diffusersFile, catalogs), foldedScale: 2);

        var converted = Path.Combine(_dir, "converted.safetensors");
        Assert.Equal(0, Run("convert", "--input", run, "--output", converted, "--format", "kohya").ExitCode);
        var back = Path.Combine(_dir, "back");
        Assert.Equal(0, Run("convert", "--input", converted, "--output", back, "--format", "peft").ExitCode);
        AssertSame(peft, AdapterFiles.Read(back, catalogs), foldedScale: 1);

        var refused = Run("convert", "--input", run, "--output", converted, "--format", "kohya");
        Assert.Equal(2, refused.ExitCode);
        Assert.Equal($"error: --output '{converted}' already exists; pass --overwrite to replace it.", Assert.Single(refused.Errors));

        var images = new[] { run, kohyaFile }.Select((adapter, i) =>
        {
            var output = Path.Combine(_dir, $"images-{i}");
            var generated = Run("generate", "--lora", adapter, "--seed", "3", "--num_inference_steps", "3", "--num_images", "1", "--output_dir", output);
            Assert.True(generated.ExitCode == 0, generated.Log);
            // The image, not grid.png, whose label names the adapter file.
            return File.ReadAllBytes(Path.Combine(output, "image-0.png"));
        }).ToList();
        Assert.Equal(images[0], images[1]);
    }

    /// <summary>Same modules and tensors, lora_B × <paramref name="foldedScale"/> on the UNet, alphas giving the same scalings.</summary>
    private static void AssertSame(IReadOnlyDictionary<string, AdapterState> expected, IReadOnlyDictionary<string, AdapterState> actual, double foldedScale)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (component, state) in expected)
        {
            var other = actual[component];
            Assert.Equal(state.Tensors.Keys.Order(), other.Tensors.Keys.Order());
            double scale = component == "unet" ? foldedScale : 1;
            foreach (var (key, tensor) in state.Tensors)
            {
                var want = key.Contains("lora_B", StringComparison.Ordinal) && scale != 1 ? tensor.Mul(scale) : tensor;
                Assert.True(want.allclose(other.Tensors[key], rtol: 0, atol: 1e-6), $"{component}: {key}");
            }
        }
    }
}
