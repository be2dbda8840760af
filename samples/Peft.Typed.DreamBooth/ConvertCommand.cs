using System.CommandLine;
using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters.Formats;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Training;
using static TorchSharp.torch;

namespace Peft.Typed.DreamBooth;

/// <summary>
/// <c>convert</c>: an adapter from one file format to another (PEFT folders, the diffusers LoRA file, kohya/LyCORIS
/// files), mapping module names through the base model's architecture (its config.json files; no weights are loaded).
/// </summary>
internal static class ConvertCommand
{
    public static Command Create(Func<Func<int>, int> guarded)
    {
        var command = new Command("convert", "Converts an adapter between the PEFT, diffusers and kohya/LyCORIS formats (docs/interop.md).");
        var input = new Option<string>("--input") { Description = "The adapter: a PEFT folder, a diffusers or a kohya/LyCORIS .safetensors file (format detected from the keys).", Required = true };
        var output = new Option<string>("--output") { Description = "Where to write: a folder for peft, a .safetensors file for diffusers and kohya.", Required = true };
        var format = new Option<string>("--format") { Description = "peft, diffusers or kohya.", Required = true };
        var model = new Option<string?>("--pretrained_model_name_or_path") { Description = "The base pipeline folder whose module names the adapter uses (default: the embedded tiny model)." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing --output." };
        foreach (var option in new Option[] { input, output, format, model, overwrite }) command.Options.Add(option);
        command.SetAction(result => guarded(() => Run(result.GetValue(input)!, result.GetValue(output)!, result.GetValue(format)!,
            result.GetValue(model) ?? EmbeddedDefault.ModelFolder, result.GetValue(overwrite))));
        return command;
    }

    private static int Run(string input, string output, string formatName, string model, bool overwrite)
    {
        var format = CommandLineNames.Parse<AdapterFileFormat>("format", formatName);
        if (!overwrite && (File.Exists(output) || Directory.Exists(output)))
            throw new DreamBoothOptionException("output", $"--output '{output}' already exists; pass --overwrite to replace it.");
        using var scope = NewDisposeScope();
        var states = AdapterFiles.Read(input, Catalogs(model));
        Console.WriteLine($"Read {AdapterFiles.Detect(input)} adapter {input}: {string.Join(", ", states.Select(s => $"{s.Key} ({s.Value.ModuleNames.Count} modules)"))}.");
        AdapterFiles.Write(output, format, states);
        Console.WriteLine($"Wrote {format} adapter {output}.");
        return 0;
    }

    /// <summary>The module catalog of each adaptable component of a pipeline folder, from its config.json alone.</summary>
    private static Dictionary<string, ModuleCatalog> Catalogs(string pipelineFolder)
    {
        if (!Directory.Exists(pipelineFolder))
            throw new DreamBoothOptionException("pretrained_model_name_or_path", $"--pretrained_model_name_or_path: folder '{pipelineFolder}' does not exist.");
        var catalogs = new Dictionary<string, ModuleCatalog>(StringComparer.Ordinal);
        foreach (var component in PipelineAdapters.ComponentNames)
        {
            var config = Path.Combine(pipelineFolder, component, "config.json");
            if (File.Exists(config)) catalogs[component] = ModuleCatalog.FromTree(component, ArchitectureDescription.Parse(File.ReadAllText(config), config).BuildTree());
        }
        if (catalogs.Count == 0)
            throw new DreamBoothOptionException("pretrained_model_name_or_path", $"--pretrained_model_name_or_path: '{pipelineFolder}' has no {string.Join(", ", PipelineAdapters.ComponentNames.Select(c => c + "/config.json"))}.");
        return catalogs;
    }
}
