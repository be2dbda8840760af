using System.CommandLine;
using System.Globalization;
using Peft.Typed.Models.Imaging;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Training;
using Peft.Typed.Training.Imaging;
using static TorchSharp.torch;

namespace Peft.Typed.DreamBooth;

/// <summary>
/// <c>generate</c>: images from a pipeline folder (default: the embedded tiny model) with zero or more adapters, each at
/// its weight (<c>--lora path[:weight]</c>, diffusers' <c>set_adapters</c>), written as PNGs plus a grid.
/// </summary>
internal static class GenerateCommand
{
    /// <summary>diffusers' default guidance scale, as the pipeline's own options hold it.</summary>
    private static readonly double DefaultGuidance = new GenerationOptions().GuidanceScale;

    /// <param name="guarded">Runs the command, turning user-caused errors into one line and an exit code.</param>
    public static Command Create(Func<Func<int>, int> guarded)
    {
        var command = new Command("generate", "Generates images from a pipeline folder with zero or more adapters (PEFT folders, as the trainer writes them).");
        var model = new Option<string?>("--pretrained_model_name_or_path") { Description = "Diffusers pipeline folder (default: the embedded tiny model)." };
        var loras = new Option<string[]>("--lora") { Description = "An adapter folder, optionally with its weight: path[:weight] (default weight 1). Repeatable; the adapters run together.", AllowMultipleArgumentsPerToken = false };
        var prompt = new Option<string>("--prompt") { Description = "The prompt.", DefaultValueFactory = _ => EmbeddedDefault.InstancePrompt };
        var negative = new Option<string?>("--negative_prompt") { Description = "The negative prompt." };
        var seed = new Option<int>("--seed") { Description = "Seed of the initial latents; the same seed gives the same images.", DefaultValueFactory = _ => 0 };
        var steps = new Option<int>("--num_inference_steps") { Description = "Denoising steps.", DefaultValueFactory = _ => 25 };
        var guidance = new Option<double?>("--guidance_scale") { Description = $"Classifier-free guidance scale (default {DefaultGuidance.ToString(CultureInfo.InvariantCulture)}; {EmbeddedDefault.GuidanceScale.ToString(CultureInfo.InvariantCulture)} for the embedded tiny model, the scale it was checked at)." };
        var height = new Option<int?>("--height") { Description = "Image height (default: the UNet's sample_size × 8)." };
        var width = new Option<int?>("--width") { Description = "Image width (default: the UNet's sample_size × 8)." };
        var count = new Option<int>("--num_images") { Description = "Images to generate.", DefaultValueFactory = _ => 4 };
        var output = new Option<string?>("--output_dir") { Description = "Output folder (default: output/generate-<time>)." };
        var fuse = new Option<bool>("--fuse") { Description = "Merge the adapters into the base weights before sampling (diffusers' fuse_lora)." };
        var stored = new Option<bool>("--keep_stored_dtypes") { Description = "Load each component in the dtype its checkpoint stores (torch_dtype=\"auto\"); default: float32." };
        foreach (var option in new Option[] { model, loras, prompt, negative, seed, steps, guidance, height, width, count, output, fuse, stored }) command.Options.Add(option);

        command.SetAction(result => guarded(() => Run(new Request(
            result.GetValue(model) ?? EmbeddedDefault.ModelFolder,
            (result.GetValue(loras) ?? []).Select(ParseLora).ToList(),
            result.GetValue(prompt)!, result.GetValue(negative), result.GetValue(seed), result.GetValue(steps),
            result.GetValue(guidance) ?? (result.GetValue(model) is null ? EmbeddedDefault.GuidanceScale : DefaultGuidance),
            result.GetValue(height), result.GetValue(width), result.GetValue(count),
            result.GetValue(output) ?? Path.GetFullPath(Path.Combine("output", "generate-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture))),
            result.GetValue(fuse), result.GetValue(stored)))));
        return command;
    }

    private sealed record Request(string Model, IReadOnlyList<(string Path, double Weight)> Loras, string Prompt, string? NegativePrompt, int Seed,
        int Steps, double Guidance, int? Height, int? Width, int Count, string OutputDir, bool Fuse, bool KeepStoredDTypes);

    /// <summary><c>path[:weight]</c>: a trailing <c>:number</c> is the weight (so Windows drive letters still work).</summary>
    private static (string Path, double Weight) ParseLora(string value)
    {
        int colon = value.LastIndexOf(':');
        if (colon > 0 && double.TryParse(value[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) && double.IsFinite(weight))
            return (value[..colon], weight);
        return (value, 1.0);
    }

    /// <summary>A denoising progress bar redrawn in place on a terminal; one line at the end when output is redirected.</summary>
    private static void Progress(int step, int total)
    {
        const int width = 24;
        int filled = step * width / total;
        var line = $"denoising {step,3}/{total} [{new string('#', filled)}{new string('.', width - filled)}]";
        if (!Console.IsOutputRedirected) Console.Write("\r" + line + (step == total ? Environment.NewLine : ""));
        else if (step == total) Console.WriteLine(line);
    }

    private static int Run(Request r)
    {
        if (r.Steps <= 0) throw new DreamBoothOptionException("num_inference_steps", $"--num_inference_steps {r.Steps}: must be > 0");
        if (r.Count <= 0) throw new DreamBoothOptionException("num_images", $"--num_images {r.Count}: must be > 0");
        if (r.Height is { } h && (h <= 0 || h % 8 != 0)) throw new DreamBoothOptionException("height", $"--height {h}: must be a positive multiple of 8");
        if (r.Width is { } w && (w <= 0 || w % 8 != 0)) throw new DreamBoothOptionException("width", $"--width {w}: must be a positive multiple of 8");
        if (!Directory.Exists(r.Model)) throw new DreamBoothOptionException("pretrained_model_name_or_path", $"--pretrained_model_name_or_path: folder '{r.Model}' does not exist.");

        using var pipeline = r.KeepStoredDTypes ? DiffusionPipeline.FromPretrainedInStoredDTypes(r.Model) : DiffusionPipeline.FromPretrained(r.Model);
        var adapters = new PipelineAdapters(pipeline);
        for (int i = 0; i < r.Loras.Count; i++)
        {
            adapters.Load(r.Loras[i].Path, $"lora{i}");
            Console.WriteLine($"Adapter lora{i}: {r.Loras[i].Path} at weight {r.Loras[i].Weight.ToString(CultureInfo.InvariantCulture)}");
        }
        if (r.Loras.Count > 0) adapters.SetAdapters(adapters.Names, r.Loras.Select(l => l.Weight).ToList());
        if (r.Fuse) adapters.Fuse();

        Directory.CreateDirectory(r.OutputDir);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)r.Seed);
        var images = pipeline.Generate(r.Prompt, new GenerationOptions
        {
            NegativePrompt = r.NegativePrompt,
            NumInferenceSteps = r.Steps,
            GuidanceScale = r.Guidance,
            Height = r.Height,
            Width = r.Width,
            NumImagesPerPrompt = r.Count,
            Generator = generator,
            OnStep = Progress,
        });
        for (int i = 0; i < images.shape[0]; i++)
        {
            var path = Path.Combine(r.OutputDir, $"image-{i}.png");
            ImageTensors.SavePng(images[i], path);
            Console.WriteLine($"Image: {path}");
        }
        var grid = Path.Combine(r.OutputDir, "grid.png");
        var adapterNote = r.Loras.Count == 0 ? "" : $" ({string.Join(", ", r.Loras.Select(l => $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(l.Path))}:{l.Weight.ToString(CultureInfo.InvariantCulture)}"))})";
        LabelledGrid.Save(grid, [($"seed {r.Seed}{adapterNote}: {r.Prompt}", images)]);
        Console.WriteLine($"Grid: {grid}");
        return 0;
    }
}
