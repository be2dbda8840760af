using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.SafeTensors;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Pipelines;

/// <summary>
/// Several adapters at once on a pipeline (diffusers' <c>set_adapters(names, weights)</c>): the images equal those of
/// a pipeline whose weights hold W + Σ wᵢ·(αᵢ/rᵢ)·Bᵢ·Aᵢ, computed here from the adapter files alone, for the same seed.
/// </summary>
public sealed class PipelineAdaptersTests : IDisposable
{
    private readonly TinyPipelineFolder _folder = new();
    private readonly DirectoryInfo _adapters = Directory.CreateTempSubdirectory("pipeline-adapters-");

    public void Dispose()
    {
        _folder.Dispose();
        _adapters.Delete(recursive: true);
    }

    /// <summary>A random LoRA (B not zero) on the UNet and the text encoder, saved as the trainer saves its outputs.</summary>
    private string SaveAdapter(string pipelineFolder, string name, int seed, int rank, double alpha, IReadOnlyList<string> unetTargets)
    {
        var folder = Path.Combine(_adapters.FullName, name);
        using var pipeline = DiffusionPipeline.FromPretrained(pipelineFolder);
        manual_seed(seed);
        var unet = PeftModel.Create(pipeline.Unet, new LoraConfig { R = rank, LoraAlpha = alpha, InitLoraWeights = LoraInit.Random, TargetModules = TargetModules.FromNames(unetTargets) });
        var adapted = new Dictionary<string, PeftModel> { ["unet"] = unet };
        var textTargets = TargetModules.FromNames("q_proj", "v_proj");
        // An SDXL pipeline's second text encoder gets an adapter of its own, the first one only on the first adapter.
        var textEncoder2 = (pipeline as StableDiffusionXLPipeline)?.TextEncoder2;
        if (textEncoder2 is null || seed == 1)
            adapted["text_encoder"] = PeftModel.Create(pipeline.TextEncoder, new LoraConfig { R = rank, LoraAlpha = alpha, InitLoraWeights = LoraInit.Random, TargetModules = textTargets });
        if (textEncoder2 is not null)
            adapted["text_encoder_2"] = PeftModel.Create(textEncoder2, new LoraConfig { R = rank, LoraAlpha = alpha, InitLoraWeights = LoraInit.Random, TargetModules = textTargets });
        // The layers' default init makes B as large as A; scale the update down so the images stay in range.
        using (no_grad())
        {
            foreach (var (key, tensor) in adapted.Values.SelectMany(p => p.GetAdapterStateDict()))
            {
                if (key.Contains("lora_B", StringComparison.Ordinal)) tensor.MulInPlace(0.05);
            }
        }
        foreach (var (component, peft) in adapted) peft.SavePretrained(Path.Combine(folder, component));
        return folder;
    }

    private static Tensor Generate(DiffusionPipeline pipeline)
    {
        using var generator = new Generator(42);
        return pipeline.Generate("a photo of a cat", new GenerationOptions { NumInferenceSteps = 4, Height = 32, Width = 32, NumImagesPerPrompt = 2, Generator = generator });
    }

    [Theory]
    [InlineData("sd")]
    [InlineData("sdxl")]
    [InlineData("embedded default")]
    public void Two_adapters_at_weights_equal_their_weighted_updates_merged_by_hand(string pipelineKind)
    {
        using var xlFolder = pipelineKind == "sdxl" ? new TinyXLPipelineFolder() : null;
        var pipelineFolder = pipelineKind switch
        {
            "sdxl" => xlFolder!.Path,
            "embedded default" => Path.Combine(Peft.Typed.Testing.Fixtures.RepoRoot, "samples", "Peft.Typed.DreamBooth", "DefaultModel", "model"),
            _ => _folder.Path,
        };
        var first = SaveAdapter(pipelineFolder, "first", 1, rank: 4, alpha: 8, ["to_q", "to_v", "conv1"]);
        var second = SaveAdapter(pipelineFolder, "second", 2, rank: 2, alpha: 2, ["to_k", "to_v", "proj_in"]);
        var adapters = new[] { (Folder: first, Weight: 0.7), (Folder: second, Weight: 0.3) };

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor actual;
        using (var pipeline = LoadForComparison(pipelineFolder))
        {
            var loaded = new PipelineAdapters(pipeline);
            loaded.Load(first, "first");
            loaded.Load(second, "second");
            loaded.SetAdapters(["first", "second"], adapters.Select(a => a.Weight).ToList());
            actual = Generate(pipeline).MoveToOuterDisposeScope();
        }

        Tensor expected;
        using (var pipeline = LoadForComparison(pipelineFolder))
        {
            var components = new Dictionary<string, nn.Module?> { ["unet"] = pipeline.Unet, ["text_encoder"] = pipeline.TextEncoder, ["text_encoder_2"] = (pipeline as StableDiffusionXLPipeline)?.TextEncoder2 };
            foreach (var (folder, weight) in adapters)
            {
                foreach (var (component, model) in components)
                {
                    if (model is not null && Directory.Exists(Path.Combine(folder, component))) MergeByHand(model, Path.Combine(folder, component), weight);
                }
            }
            expected = Generate(pipeline);
        }

        var difference = MaxDifference(expected, actual);
        // The images come back in float32, so the two float64 runs may differ by a float32 rounding step (6e-8 near 1).
        Assert.True(difference <= 1e-6f, $"largest pixel difference {difference}");
        Assert.True(MaxDifference(expected, Generate0(pipelineFolder)) > 1e-3f, "the adapters must change the images");
    }

    private static float MaxDifference(Tensor a, Tensor b) => a.Add(b.neg()).abs().max().item<float>();

    /// <summary>
    /// A pipeline in float64, where adapters applied unmerged and merged by hand differ only at float64 rounding. Run
    /// in float32, their images differed by 8.5e-6 to 1.1e-5 against a bound of 1e-5, changing from run to run: the
    /// adapters' random init draws from the process-wide generator, which tests on other threads draw from between the
    /// seed and the draws.
    /// </summary>
    private static DiffusionPipeline LoadForComparison(string folder) => DiffusionPipeline.FromPretrained(folder, ScalarType.Float64);

    /// <summary>The base pipeline's images, to show the adapters matter.</summary>
    private static Tensor Generate0(string folder)
    {
        using var pipeline = LoadForComparison(folder);
        return Generate(pipeline);
    }

    /// <summary>W += weight · (lora_alpha / r) · B·A for every module of a PEFT folder, read from its files only.</summary>
    private static void MergeByHand(nn.Module model, string adapterFolder, double weight)
    {
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(adapterFolder, "adapter_config.json")))!;
        double scaling = weight * config["lora_alpha"]!.GetValue<double>() / config["r"]!.GetValue<int>();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var tensors = SafetensorsFile.LoadAll(Path.Combine(adapterFolder, "adapter_model.safetensors"));
        foreach (var key in tensors.Keys.Where(k => k.EndsWith(".lora_A.weight", StringComparison.Ordinal)))
        {
            var module = key["base_model.model.".Length..^".lora_A.weight".Length];
            var a = tensors[key];
            var b = tensors[$"base_model.model.{module}.lora_B.weight"];
            var w = parameters[module + ".weight"];
            var delta = b.reshape(b.shape[0], b.shape[1]).matmul(a.reshape(a.shape[0], -1)).reshape(w.shape).Mul(scaling);
            w.AddInPlace(delta);
        }
    }
}
