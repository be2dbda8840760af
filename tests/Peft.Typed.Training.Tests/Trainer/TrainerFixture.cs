using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Testing;
using Peft.Typed.Training;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Tests.Trainer;

/// <summary>Options for short runs on the embedded tiny model that the sample trainer ships.</summary>
internal static class TrainerFixture
{
    public static string DefaultModel => Path.Combine(Fixtures.RepoRoot, "samples", "Peft.Typed.DreamBooth", "DefaultModel");

    /// <summary>The embedded tiny SDXL pipeline (<c>--model sdxl-tiny</c>).</summary>
    public static string XLModel => Path.Combine(DefaultModel, "model-sdxl");

    /// <summary><see cref="Options"/> on the tiny SDXL pipeline.</summary>
    /// <summary>
    /// Command-line arguments that fix the trainer's threads at libtorch's default (one per core): by default they
    /// follow the machine's load, and runs that must match bit for bit cannot let a busy test machine choose.
    /// </summary>
    public static string[] FixedThreads => ["--num_threads", Peft.Typed.Models.Runtime.TorchRuntime.DefaultThreads.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    public static DreamBoothOptions XLOptions(string outputDir) => Options(outputDir) with { PretrainedModel = XLModel };

    public static DreamBoothOptions Options(string outputDir) => new()
    {
        PretrainedModel = Path.Combine(DefaultModel, "model"),
        InstanceDataDir = Path.Combine(DefaultModel, "instance_images"),
        InstancePrompt = "a photo of sks toy",
        OutputDir = outputDir,
        Resolution = 32,
        TrainBatchSize = 2,
        LearningRate = 1e-3,
        LrWarmupSteps = 0,
        CheckpointingSteps = 1000,
        Seed = 7,
        CenterCrop = true,
    };

    /// <summary>A copy of the embedded default pipeline folder at <paramref name="target"/>, for tests that alter it.</summary>
    public static string CopyDefaultModel(string target)
    {
        var source = Path.Combine(DefaultModel, "model");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
        return target;
    }

    /// <summary>The tensors of an adapter folder's adapter_model.safetensors, flattened.</summary>
    public static Dictionary<string, float[]> AdapterWeights(string adapterDir)
    {
        using var scope = NewDisposeScope();
        return SafetensorsFile.LoadAll(Path.Combine(adapterDir, "adapter_model.safetensors"))
            .ToDictionary(kv => kv.Key, kv => kv.Value.flatten().data<float>().ToArray());
    }

    /// <summary>The largest element difference between two adapters with the same keys.</summary>
    public static float MaxDifference(Dictionary<string, float[]> a, Dictionary<string, float[]> b)
    {
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        return a.Keys.Max(k => a[k].Zip(b[k]).Select(p => Math.Abs(p.First - p.Second)).DefaultIfEmpty(0f).Max());
    }
}

/// <summary>Collects what a run reports.</summary>
internal sealed class RecordingObserver : ITrainingObserver
{
    public List<string> Messages { get; } = [];
    public List<TrainingProgress> Steps { get; } = [];
    public void Info(string message) => Messages.Add(message);
    public void Warning(string message) => Messages.Add("warning: " + message);
    public void Step(TrainingProgress progress) => Steps.Add(progress);
}

/// <summary>Cancels the run once it reports <paramref name="step"/>, as an interrupted run stops.</summary>
internal sealed class CancelAfterStep(int step, CancellationTokenSource source) : ITrainingObserver
{
    public void Info(string message) { }
    public void Warning(string message) { }
    public void Step(TrainingProgress progress)
    {
        if (progress.Step == step) source.Cancel();
    }
}
