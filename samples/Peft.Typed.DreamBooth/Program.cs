using System.CommandLine;
using Peft.Typed.Architecture.Diagnostics;
using Peft.Typed.DreamBooth;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Formats;
using Peft.Typed.Models.Loading;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Typed;
using Peft.Typed.Training;
using Peft.Typed.Training.Pretraining;

var trainer = new TrainerCommand();
var createDefault = new Command("create-default-model", "Writes the embedded tiny model's weights and instance images into a DefaultModel folder.") { Hidden = true };
var target = new Argument<string>("folder") { Description = "The DefaultModel folder (holds model/*/config.json)." };
createDefault.Arguments.Add(target);
var recipe = new ShapesPretrainingOptions();
var vaeSteps = new Option<int>("--vae_steps") { Description = "VAE pre-training steps.", DefaultValueFactory = _ => recipe.VaeSteps };
var unetSteps = new Option<int>("--unet_steps") { Description = "UNet pre-training steps.", DefaultValueFactory = _ => recipe.UnetSteps };
createDefault.Options.Add(vaeSteps);
createDefault.Options.Add(unetSteps);
createDefault.SetAction(result => Guarded(() =>
{
    foreach (var steps in new[] { vaeSteps, unetSteps })
    {
        if (result.GetValue(steps) < 1) throw new DreamBoothOptionException(steps.Name.TrimStart('-'), $"{steps.Name} must be at least 1, not {result.GetValue(steps)}.");
    }
    DefaultModelBuilder.Create(result.GetValue(target)!, recipe with { VaeSteps = result.GetValue(vaeSteps), UnetSteps = result.GetValue(unetSteps) });
    return 0;
}));
trainer.Root.Subcommands.Add(createDefault);
trainer.Root.Subcommands.Add(GenerateCommand.Create(Guarded));
trainer.Root.Subcommands.Add(ConvertCommand.Create(Guarded));
trainer.Root.SetAction(result => Guarded(() => Run(trainer, result)));

var parsed = trainer.Root.Parse(args);
if (parsed.Errors.Count > 0)
{
    Console.Error.WriteLine("error: " + parsed.Errors[0].Message);
    return 2;
}
return parsed.Invoke();

static int Run(TrainerCommand command, ParseResult result)
{
    var (options, embedded) = command.Bind(result);
    if (embedded) Console.WriteLine($"Training the embedded tiny model; output: {options.OutputDir}");
    var run = new DreamBoothTrainer(options, new ConsoleProgress()).Run();
    Console.WriteLine($"Done: {run.Steps} steps, final loss {run.Losses[^1]:F4}.");
    Console.WriteLine($"Adapter: {run.UnetAdapterDir}");
    if (run.TextEncoderAdapterDir is not null) Console.WriteLine($"Text-encoder adapter: {run.TextEncoderAdapterDir}");
    if (run.ValidationGrid is not null) Console.WriteLine($"Validation images: {run.ValidationGrid}");
    foreach (var file in run.ExportedFiles) Console.WriteLine($"Adapter file: {file}");
    if (run.LossCurve is not null) Console.WriteLine($"Loss curve: {run.LossCurve}");
    Console.WriteLine($"Output folder: {Path.GetFullPath(run.OutputDir)}");
    return 0;
}

/// <summary>
/// Every command's user-caused errors as one line on stderr and an exit code. The user-caused errors are the library's
/// documented set (docs/training.md, "Errors"): a bad option (2), a diverged run (3), and a bad file, folder or config
/// (1); anything else is a bug and crashes loudly with its stack trace.
/// </summary>
static int Guarded(Func<int> command)
{
    static int Fail(Exception e, int code)
    {
        Console.Error.WriteLine("error: " + e.Message.ReplaceLineEndings(" "));
        return code;
    }

    try
    {
        return command();
    }
    catch (DreamBoothOptionException e)
    {
        return Fail(e, 2);
    }
    catch (TrainingDivergedException e)
    {
        return Fail(e, 3);
    }
    catch (Exception e) when (e is ArchitectureException or AdapterFormatException or SafetensorsFormatException or CheckpointMismatchException or TypedModelConfigException
        or AdapterConfigException or IOException or InvalidDataException or UnauthorizedAccessException or KeyNotFoundException or ArgumentException)
    {
        return Fail(e, 1);
    }
}
