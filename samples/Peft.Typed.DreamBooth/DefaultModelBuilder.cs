using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Unet;
using Peft.Typed.Models.Vae;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.DreamBooth;

/// <summary>
/// Makes the embedded defaults: seeded random weights for the tiny UNet, VAE and CLIP configs under model/ (SD) and
/// model-sdxl/ (SDXL: a "text_time" UNet, two text encoders), stored as fp16 to keep the repository small (they load
/// into fp32 models), and four drawn "toy" instance images. The SDXL model's VAE and first text encoder have the SD
/// model's configs and seed, so their weight files are the same bytes (git stores them once).
/// </summary>
internal static class DefaultModelBuilder
{
    public static void Create(string root)
    {
        foreach (var name in new[] { EmbeddedDefault.SdFolderName, EmbeddedDefault.SdxlFolderName })
        {
            var model = Path.Combine(root, name);
            CopyMissingConfigs(Path.Combine(EmbeddedDefault.Root, name), model);
            Write(model, "unet", "diffusion_pytorch_model", folder => new UNet2DConditionModel(Config<UNet2DConditionConfig>(folder)));
            Write(model, "vae", "diffusion_pytorch_model", folder => new AutoencoderKL(Config<AutoencoderKLConfig>(folder)));
            Write(model, "text_encoder", "model", folder => new CLIPTextModel(Config<ClipTextConfig>(folder)));
            if (name == EmbeddedDefault.SdxlFolderName)
                Write(model, "text_encoder_2", "model", folder => new CLIPTextModelWithProjection(Config<ClipTextConfig>(folder)));
        }
        WriteInstanceImages(Path.Combine(root, "instance_images"));
        Console.WriteLine($"Wrote the default model and instance images into {Path.GetFullPath(root)}.");
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
        using var scope = NewDisposeScope();
        var state = module.state_dict().Select(kv => KeyValuePair.Create(kv.Key, kv.Value.to_type(ScalarType.Float16)));
        SafetensorsWriter.Save(Path.Combine(folder, weightsName + ".safetensors"), state, new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>A red toy with two eyes on four different backgrounds and positions.</summary>
    private static void WriteInstanceImages(string folder)
    {
        Directory.CreateDirectory(folder);
        var backgrounds = new[] { new Rgb24(200, 220, 240), new Rgb24(235, 225, 200), new Rgb24(210, 235, 210), new Rgb24(230, 230, 230) };
        for (int i = 0; i < backgrounds.Length; i++)
        {
            using var image = new Image<Rgb24>(96, 96, backgrounds[i]);
            int cx = 40 + 8 * (i % 2), cy = 44 + 6 * (i / 2), half = 22 + 2 * i;
            for (int y = 0; y < image.Height; y++)
            {
                for (int x = 0; x < image.Width; x++)
                {
                    double dx = Math.Abs(x - cx), dy = Math.Abs(y - cy);
                    if (Math.Max(dx, dy) <= half && !(dx > half - 6 && dy > half - 6 && Math.Pow(dx - (half - 6), 2) + Math.Pow(dy - (half - 6), 2) > 36))
                        image[x, y] = new Rgb24(210, 40, 40);
                    if (Math.Pow(x - (cx - 8), 2) + Math.Pow(y - (cy - 6), 2) <= 16 || Math.Pow(x - (cx + 8), 2) + Math.Pow(y - (cy - 6), 2) <= 16)
                        image[x, y] = new Rgb24(20, 20, 20);
                }
            }
            image.SaveAsPng(Path.Combine(folder, $"toy-{i}.png"));
        }
    }
}
