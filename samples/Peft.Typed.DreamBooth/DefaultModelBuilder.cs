using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Unet;
using Peft.Typed.Models.Vae;
using Peft.Typed.Training.Data.Shapes;
using Peft.Typed.Training.Pretraining;
using SixLabors.ImageSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.DreamBooth;

/// <summary>
/// Makes the embedded defaults, stored as fp16 to keep the repository small (they load into fp32 models): under model/
/// the tiny Stable Diffusion pre-trained on the captioned-shapes data set (<see cref="ShapesPretraining"/>), under
/// model-sdxl/ seeded random weights for the tiny SDXL configs (a "text_time" UNet, two text encoders), and four drawn
/// instance images of a subject the shapes data set lacks.
/// </summary>
internal static class DefaultModelBuilder
{
    public static void Create(string root, ShapesPretrainingOptions pretraining)
    {
        var sd = Path.Combine(root, EmbeddedDefault.SdFolderName);
        CopyMissingConfigs(Path.Combine(EmbeddedDefault.Root, EmbeddedDefault.SdFolderName), sd);
        ShapesPretraining.Run(sd, pretraining, Console.WriteLine);
        ReportHeldBackAgreement(sd, pretraining);

        var sdxl = Path.Combine(root, EmbeddedDefault.SdxlFolderName);
        CopyMissingConfigs(Path.Combine(EmbeddedDefault.Root, EmbeddedDefault.SdxlFolderName), sdxl);
        Write(sdxl, "unet", "diffusion_pytorch_model", folder => new UNet2DConditionModel(Config<UNet2DConditionConfig>(folder)));
        Write(sdxl, "vae", "diffusion_pytorch_model", folder => new AutoencoderKL(Config<AutoencoderKLConfig>(folder)));
        Write(sdxl, "text_encoder", "model", folder => new CLIPTextModel(Config<ClipTextConfig>(folder)));
        Write(sdxl, "text_encoder_2", "model", folder => new CLIPTextModelWithProjection(Config<ClipTextConfig>(folder)));
        WriteInstanceImages(Path.Combine(root, "instance_images"));
        Console.WriteLine($"Wrote the default model and instance images into {Path.GetFullPath(root)}.");
    }

    /// <summary>How faithfully the VAE reconstructs the scenes, and how often the trained model draws what the captions it never trained on ask for (the recipe's checks).</summary>
    private static void ReportHeldBackAgreement(string model, ShapesPretrainingOptions pretraining)
    {
        using var pipeline = DiffusionPipeline.FromPretrained(model);
        var roundTrip = ShapesPretraining.CheckVaeRoundTrip(pipeline, pretraining);
        Console.WriteLine($"VAE round trip: {roundTrip.Count(s => s.Agrees)} of {roundTrip.Count} scenes read back in colour, size and position.");
        var samples = ShapesPretraining.CheckHeldBackCaptions(pipeline, pretraining);
        Console.WriteLine($"Held-back captions: {samples.Count(s => s.Agrees)} of {samples.Count} images agree in colour, size and position " +
            $"(colour {samples.Count(s => s.Measured?.Color == s.Scene.Color)}, size {samples.Count(s => s.Measured?.Size == s.Scene.Size)}, " +
            $"position {samples.Count(s => s.Measured?.Position == s.Scene.Position)}).");
    }

    /// <summary>The configs, tokenizer and scheduler files the weights are made from, copied from the shipped default where the target lacks them.</summary>
    private static void CopyMissingConfigs(string shipped, string model)
    {
        foreach (var file in Directory.EnumerateFiles(shipped, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
        {
            var target = Path.Combine(model, Path.GetRelativePath(shipped, file));
            if (File.Exists(target)) continue;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static T Config<T>(string folder) where T : Architecture.Configs.ArchitectureConfig
    {
        var path = Path.Combine(folder, "config.json");
        return ArchitectureDescription.Parse<T>(File.ReadAllText(path), path);
    }

    private static void Write(string model, string component, string weightsName, Func<string, nn.Module> build)
    {
        var folder = Path.Combine(model, component);
        manual_seed(0);
        using var module = build(folder);
        SafetensorsWriter.SaveModule(module, Path.Combine(folder, weightsName + ".safetensors"), ScalarType.Float16);
    }

    /// <summary>
    /// The subject the base model never saw: a yellow star (its shapes data set has no stars), on the data set's
    /// background at four positions and sizes, 4×4 supersampled. Plain, not striped: the VAE, trained on flat colours
    /// only, reconstructs a striped yellow star as a red one (docs/training.md), so stripes would teach the adapter red.
    /// </summary>
    private static void WriteInstanceImages(string folder)
    {
        Directory.CreateDirectory(folder);
        var placements = new (double X, double Y, double Radius)[] { (0.5, 0.5, 0.36), (0.42, 0.52, 0.32), (0.58, 0.48, 0.34), (0.5, 0.54, 0.3) };
        for (int i = 0; i < placements.Length; i++)
        {
            var (cx, cy, radius) = placements[i];
            // Draw's v points up; InStar's star has its point up in image rows (v down).
            using var image = ShapeScene.Draw(64, ShapeScene.Rgb(ShapeColor.Yellow), cx, cy, radius, (u, v) => InStar(u, -v));
            image.SaveAsPng(Path.Combine(folder, $"star-{i}.png"));
        }
    }

    /// <summary>A five-pointed star of outer radius 1 (inner 0.45), one point up, by ray casting over its ten corners.</summary>
    private static bool InStar(double u, double v)
    {
        bool inside = false;
        for (int i = 0, j = 9; i < 10; j = i++)
        {
            var (xi, yi) = Corner(i);
            var (xj, yj) = Corner(j);
            if ((yi > v) != (yj > v) && u < (xj - xi) * (v - yi) / (yj - yi) + xi) inside = !inside;
        }
        return inside;

        static (double X, double Y) Corner(int k)
        {
            double radius = k % 2 == 0 ? 1 : 0.45, angle = -Math.PI / 2 + k * Math.PI / 5;
            return (radius * Math.Cos(angle), radius * Math.Sin(angle));
        }
    }
}
