using Peft.Typed.Training.Data.Shapes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit.Abstractions;

namespace Peft.Typed.Training.Tests.Trainer;

/// <summary>
/// README command (1) — the default DreamBooth run on the pre-trained embedded model — teaches the model the instance
/// subject and leaves the class alone, measured on the images <c>generate</c> writes for the same seeds with and
/// without the trained adapter. Each bar is the base model's own spread between seeds, measured in the same test.
/// </summary>
[Trait("Category", "Slow")]
[Collection(TrainerCollection.Name)]
public sealed class EmbeddedDefaultLearningTests(ITestOutputHelper testOutput) : IDisposable
{
    private const int Images = 8;
    private const string InstancePrompt = "a photo of sks toy";
    private const string ClassPrompt = "a photo of toy";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-learning-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_default_run_draws_the_instance_subject_and_keeps_the_class_prompt_close_to_the_base()
    {
        var output = Path.Combine(_dir, "run");
        var (code, log, _) = ChildProcess.Run(ChildProcess.Executable("TrainerExecutable"), ["--output_dir", output], Timeout);
        Assert.True(code == 0, log);

        var subject = Directory.EnumerateFiles(Path.Combine(TrainerFixture.DefaultModel, "instance_images"), "*.png").Order()
            .Select(Signature).ToList();
        Assert.NotEmpty(subject);
        double ToSubject(ShapeSignature? image) => image is null ? 0 : subject.Average(s => s!.Similarity(image));

        var baseInstance = Generate(InstancePrompt, adapter: null).Select(ToSubject).ToList();
        var trainedInstance = Generate(InstancePrompt, output).Select(ToSubject).ToList();
        // The adapter's images must resemble the subject more, on average, than the base's images of the same prompt
        // and seeds do plus three of the base's standard deviations between seeds: a rise no choice of seeds gives.
        double baseSpread = StandardDeviation(baseInstance);
        testOutput.WriteLine($"instance prompt, similarity to the instance images: base {Describe(baseInstance)}; after training {Describe(trainedInstance)}");
        Assert.True(trainedInstance.Average() > baseInstance.Average() + 3 * baseSpread,
            $"similarity to the instance images: base {Describe(baseInstance)}, after training {Describe(trainedInstance)}");

        var baseClass = Generate(ClassPrompt, adapter: null);
        var trainedClass = Generate(ClassPrompt, output);
        // Prior preservation: each class image after training stays closer to the base's image of its seed than two of
        // the base's class images of different seeds are to each other.
        var drift = baseClass.Zip(trainedClass, Similar).ToList();
        var betweenSeeds = baseClass.SelectMany((a, i) => baseClass.Skip(i + 1).Select(b => Similar(a, b))).ToList();
        testOutput.WriteLine($"class prompt, similarity to the base image of the same seed {Describe(drift)}; between the base's seeds {Describe(betweenSeeds)}");
        Assert.True(drift.Average() > betweenSeeds.Average(),
            $"class prompt: similarity to the base image of the same seed {Describe(drift)}; between the base's seeds {Describe(betweenSeeds)}");
    }

    /// <summary>The signatures of <see cref="Images"/> images of <paramref name="prompt"/>, seed 0, with or without the trained adapter.</summary>
    private List<ShapeSignature?> Generate(string prompt, string? adapter)
    {
        var output = Path.Combine(_dir, $"{(adapter is null ? "base" : "trained")}-{prompt.Replace(' ', '-')}");
        string[] lora = adapter is null ? [] : ["--lora", adapter];
        var (code, log, _) = ChildProcess.Run(ChildProcess.Executable("TrainerExecutable"),
            ["generate", "--prompt", prompt, "--num_images", Images.ToString(), "--seed", "0", "--output_dir", output, .. lora], Timeout);
        Assert.True(code == 0, log);
        return Enumerable.Range(0, Images).Select(i => Signature(Path.Combine(output, $"image-{i}.png"))).ToList();
    }

    private static ShapeSignature? Signature(string path)
    {
        using var image = Image.Load<Rgb24>(path);
        return ShapeSignature.Of(image);
    }

    private static double Similar(ShapeSignature? a, ShapeSignature? b) => a is null || b is null ? 0 : a.Similarity(b);

    private static double StandardDeviation(IReadOnlyList<double> values)
    {
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }

    private static string Describe(IReadOnlyList<double> values) =>
        $"mean {values.Average():F3} (σ {StandardDeviation(values):F3}; {string.Join(", ", values.Select(v => v.ToString("F3")))})";
}
