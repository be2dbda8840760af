using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Peft.Typed.Models.Adapters.Formats;
using Peft.Typed.Models.IO;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Training.Checkpoints;
using Peft.Typed.Training.Data;
using Peft.Typed.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Training;

/// <summary>
/// DreamBooth fine-tuning with PEFT adapters, as PEFT's and diffusers' DreamBooth scripts do it: instance (and class)
/// images → VAE latents → noise at a random timestep → UNet prediction → MSE against the noise or velocity, with
/// the prior-preservation term, gradient accumulation, clipping, AdamW or Prodigy and a learning-rate schedule. Checkpoints
/// and outputs are written atomically; a resumed run continues bit-for-bit where the checkpoint left off.
/// </summary>
public sealed class DreamBoothTrainer
{
    private const string StateFile = "training_state.json";
    private const string OptimizerFile = "optimizer.safetensors";

    private readonly DreamBoothOptions _options;
    private readonly ITrainingObserver _observer;

    /// <param name="options">The run; its adapter configs may use typed targets (<c>DefaultUnet.Targets.ToQ</c>).</param>
    /// <param name="observer">Receives messages and progress; default: <see cref="ConsoleTrainingObserver"/>.</param>
    public DreamBoothTrainer(DreamBoothOptions options, ITrainingObserver? observer = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _observer = observer ?? new ConsoleTrainingObserver();
    }

    /// <summary>Runs the whole job; returns what was written.</summary>
    public DreamBoothResult Run(CancellationToken cancellation = default)
    {
        var o = _options;
        o.Validate();
        // Every step allocates and frees the same activations: keep their pages instead of faulting them in anew.
        TorchRuntime.RetainFreedMemory();
        // Also libtorch's own count: this thread may hold another (an earlier run that followed the load, the caller's).
        TorchRuntime.SetThreads(o.NumThreads ?? TorchRuntime.DefaultThreads);
        var device = ResolveDevice(o.Device);
        int seed = o.Seed ?? Random.Shared.Next();

        var instanceFiles = ImageFolder.Load(o.InstanceDataDir, "--instance_data_dir", _observer.Warning, o.CaptionExtension);
        var instanceCaptions = ImageCaptions.Load(o.InstanceDataDir, instanceFiles, o.CaptionExtension, o.CaptionColumn);
        // --repeats: each instance image (with its caption) that many times per epoch, as diffusers' SDXL script's dataset repeats it.
        var instanceImages = instanceFiles.SelectMany(image => Enumerable.Repeat(image, o.Repeats)).ToList();
        instanceCaptions = instanceCaptions.SelectMany(caption => Enumerable.Repeat(caption, o.Repeats)).ToList();
        // Adapter initialisation draws from the global generator: seed it so a run (and its resume) is reproducible.
        manual_seed(seed);
        // Models and adapter targets are checked before the output folder is touched, so a bad option loses no earlier run.
        using var models = TrainingModels.Load(o, device, _observer.Warning);
        var checkpoints = new CheckpointManager(o.OutputDir, o.CheckpointsTotalLimit);
        var resumeFrom = PrepareOutputDirectory(checkpoints);
        _observer.Info($"UNet: {models.UnetPeft.TrainableParametersSummary()}");
        if (models.TextEncoderPeft is { } te) _observer.Info($"Text encoder: {te.TrainableParametersSummary()}");
        if (models.TextEncoder2Peft is { } te2) _observer.Info($"Text encoder 2: {te2.TrainableParametersSummary()}");

        IReadOnlyList<string> classImages = [];
        IReadOnlyList<ImageCaption?> classCaptions = [];
        if (o.WithPriorPreservation)
        {
            new ClassImageGenerator(o, models, _observer).EnsureClassImages(seed, cancellation);
            classImages = ImageFolder.Load(o.ClassDataDir!, "--class_data_dir", _observer.Warning, o.CaptionExtension).Take(o.NumClassImages).ToList();
            classCaptions = ImageCaptions.Load(o.ClassDataDir!, classImages, o.CaptionExtension, o.CaptionColumn);
        }
        var instancePrompts = Prompts(instanceCaptions, o.InstancePrompt, "instance", models.Tokenizer);
        var classPrompts = o.WithPriorPreservation ? Prompts(classCaptions, o.ClassPrompt!, "class", models.Tokenizer) : [];

        using var batches = new DreamBoothBatches(o, models, instanceImages, classImages, instancePrompts, classPrompts);
        var schedule = new DreamBoothSchedule(instanceImages.Count, classImages.Count, o.TrainBatchSize, seed);
        int updatesPerEpoch = (schedule.BatchesPerEpoch + o.GradientAccumulationSteps - 1) / o.GradientAccumulationSteps;
        int maxSteps = o.MaxTrainSteps ?? o.NumTrainEpochs * updatesPerEpoch;
        int epochs = (maxSteps + updatesPerEpoch - 1) / updatesPerEpoch;
        double learningRate = o.ScaleLr ? o.LearningRate * o.GradientAccumulationSteps * o.TrainBatchSize : o.LearningRate;
        var lrSchedule = new LearningRateSchedule(o.LrScheduler, o.LrWarmupSteps, maxSteps, o.LrNumCycles, o.LrPower, learningRate);

        using var optimizer = CreateOptimizer(models.TrainableParameters(), learningRate);
        var losses = new List<double>();
        int globalStep = 0;
        if (resumeFrom is not null)
        {
            globalStep = LoadCheckpoint(resumeFrom, models, optimizer, losses, ref seed);
            schedule = new DreamBoothSchedule(instanceImages.Count, classImages.Count, o.TrainBatchSize, seed);
            _observer.Info($"Resumed from {resumeFrom} at step {globalStep}.");
        }

        var log = new TrainingLog(Path.IsPathRooted(o.LoggingDir) ? o.LoggingDir : Path.Combine(o.OutputDir, o.LoggingDir));
        using var validation = o.ValidationPrompt is null ? null : new ValidationImages(o, models, Path.Combine(o.OutputDir, "validation"));
        void Validate(int step)
        {
            if (validation is not null) _observer.Info($"Validation images: {validation.Generate(step, seed)}.");
        }
        _observer.Info($"Training {maxSteps} steps ({epochs} epoch(s) of {schedule.Length} examples, batch {o.TrainBatchSize}, accumulation {o.GradientAccumulationSteps}), seed {seed}.");

        // Its first window starts with the steps, so loading and class images (and a launching `dotnet run`) are not in it.
        var adaptiveThreads = o.AdaptThreadsToLoad ? LoadAdaptiveThreads.ForThisProcess() : null;
        var clock = Stopwatch.StartNew();
        int startStep = globalStep;
        for (int epoch = globalStep / updatesPerEpoch; epoch < epochs && globalStep < maxSteps; epoch++)
        {
            var epochBatches = schedule.Batches(epoch);
            // Micro-batches of this epoch already consumed by the steps before a resume point.
            int skip = (globalStep - epoch * updatesPerEpoch) * o.GradientAccumulationSteps;
            double accumulated = 0;
            int micro = 0;
            for (int b = skip; b < epochBatches.Count && globalStep < maxSteps; b++)
            {
                cancellation.ThrowIfCancellationRequested();
                // accelerate divides every micro-batch loss by the accumulation count, a short last group included.
                accumulated += batches.TrainStep(epochBatches[b], 1.0 / o.GradientAccumulationSteps);
                micro++;
                bool lastOfEpoch = b == epochBatches.Count - 1;
                if (micro < o.GradientAccumulationSteps && !lastOfEpoch) continue;

                double loss = accumulated / micro;
                if (!double.IsFinite(loss))
                {
                    optimizer.ZeroGrad();
                    var last = checkpoints.Latest();
                    throw new TrainingDivergedException(
                        $"The loss became {loss.ToString(CultureInfo.InvariantCulture)} at step {globalStep + 1}; training stopped. " +
                        (last is null ? "No checkpoint had been written yet." : $"The last good checkpoint is '{last}' (resume with --resume_from_checkpoint latest)."));
                }

                double lr = learningRate * lrSchedule.Factor(globalStep);
                using (NewDisposeScope())
                {
                    nn.utils.clip_grad_norm_(optimizer.Parameters, o.MaxGradNorm);
                    optimizer.Step(lr);
                    optimizer.ZeroGrad();
                }
                globalStep++;
                losses.Add(loss);
                if (adaptiveThreads?.Observe() == true)
                {
                    _observer.Info(string.Create(CultureInfo.InvariantCulture,
                        $"libtorch threads: {adaptiveThreads.Threads} (other processes keep {adaptiveThreads.OtherProcessesCores:F1} cores busy)."));
                }
                accumulated = 0;
                micro = 0;

                double rate = (globalStep - startStep) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
                var eta = TimeSpan.FromSeconds((maxSteps - globalStep) / Math.Max(rate, 1e-9));
                log.Scalars(globalStep, loss, lr);
                _observer.Step(new TrainingProgress(globalStep, maxSteps, loss, lr, rate, eta));

                if (globalStep % o.CheckpointingSteps == 0 && globalStep < maxSteps)
                {
                    var path = SaveCheckpoint(checkpoints, globalStep, models, optimizer, losses, seed);
                    _observer.Info($"Saved checkpoint {path}.");
                }
                if (o.ValidationEpochs is null && globalStep % o.ValidationSteps == 0 && globalStep < maxSteps) Validate(globalStep);
            }
            // diffusers' SDXL script validates after epochs 0, N, 2N, … (--validation_epochs N).
            if (o.ValidationEpochs is { } every && epoch % every == 0 && globalStep < maxSteps && globalStep > startStep) Validate(globalStep);
        }

        return Finish(models, losses, globalStep, seed, validation);
    }

    private DreamBoothResult Finish(TrainingModels models, List<double> losses, int steps, int seed, ValidationImages? validation)
    {
        var o = _options;
        var adapterDirs = new Dictionary<string, string>();
        foreach (var (component, peft) in models.Adapters)
        {
            adapterDirs[component] = Path.Combine(o.OutputDir, component);
            AtomicDirectory.Write(adapterDirs[component], dir => peft.SavePretrained(dir));
        }
        var unetDir = adapterDirs["unet"];
        var teDir = adapterDirs.GetValueOrDefault("text_encoder");
        var te2Dir = adapterDirs.GetValueOrDefault("text_encoder_2");
        var exported = ExportAdapters(models);
        var lossCurve = Path.Combine(o.OutputDir, "loss.png");
        LossCurve.Write(lossCurve, losses);

        var grid = validation?.Generate(steps, seed);

        string? merged = null;
        if (o.SaveMergedUnet)
        {
            merged = Path.Combine(o.OutputDir, "unet_merged");
            AtomicDirectory.Write(merged, dir => MergedUnet.Save(models, o.PretrainedModel, dir));
        }
        _observer.Info($"Wrote the UNet adapter to {unetDir}{(teDir is null ? "" : $" and the text-encoder adapter to {teDir}")}{(te2Dir is null ? "" : $" and {te2Dir}")}.");
        return new DreamBoothResult(o.OutputDir, unetDir, teDir, steps, losses)
        {
            TextEncoder2AdapterDir = te2Dir,
            ValidationGrid = grid,
            LossCurve = lossCurve,
            MergedUnetDir = merged,
            ExportedFiles = exported,
        };
    }

    /// <summary>The single-file formats of <see cref="DreamBoothOptions.ExportFormats"/>, written next to the PEFT folders.</summary>
    private IReadOnlyList<string> ExportAdapters(TrainingModels models)
    {
        var components = models.Adapters.ToDictionary(a => a.Component, a => AdapterState.From(a.Peft));
        var written = new List<string>();
        foreach (var format in _options.ExportFormats.Distinct().Where(f => f != AdapterFileFormat.Peft))
        {
            var path = Path.Combine(_options.OutputDir, format == AdapterFileFormat.Kohya ? "pytorch_lora_weights_kohya.safetensors" : "pytorch_lora_weights.safetensors");
            AdapterFiles.Write(path, format, components);
            _observer.Info($"Wrote the {format} adapter file {path}.");
            written.Add(path);
        }
        return written;
    }

    /// <summary>Refuses to mix two runs in one folder; returns the checkpoint to resume from, if any.</summary>
    private string? PrepareOutputDirectory(CheckpointManager checkpoints)
    {
        var o = _options;
        if (o.ResumeFromCheckpoint is { } resume)
        {
            foreach (var leftover in AtomicDirectory.RemoveLeftovers(o.OutputDir))
                _observer.Info($"Removed '{leftover}', left by an interrupted write.");
            var path = checkpoints.Resolve(resume);
            if (path is null) _observer.Info($"No checkpoint in '{o.OutputDir}' to resume from; starting a new run.");
            return path;
        }
        if (Directory.Exists(o.OutputDir) && Directory.EnumerateFileSystemEntries(o.OutputDir).Any())
        {
            if (!o.Overwrite)
                throw new DreamBoothOptionException("output_dir",
                    $"--output_dir '{o.OutputDir}' already holds a previous run; pass --overwrite to replace it or --resume_from_checkpoint latest to continue it.");
            Directory.Delete(o.OutputDir, recursive: true);
        }
        Directory.CreateDirectory(o.OutputDir);
        return null;
    }

    private static Device ResolveDevice(string name)
    {
        if (name == "cpu") return CPU;
        if (!cuda.is_available())
            throw new DreamBoothOptionException("device",
                $"--device {name}: CUDA is not available to TorchSharp here. Build with -p:TorchBackend=cuda (TorchSharp-cuda-linux or TorchSharp-cuda-windows) on a machine with an NVIDIA driver, or use --device cpu.");
        return torch.device(name);
    }

    /// <summary>
    /// The prompt of each image: its caption, else <paramref name="prompt"/>. A caption longer than the text encoder takes
    /// is cut there, as the tokenizer does, with one warning naming its file.
    /// </summary>
    private string[] Prompts(IReadOnlyList<ImageCaption?> captions, string prompt, string kind, Models.Tokenizers.ClipTokenizer tokenizer)
    {
        int captioned = captions.Count(c => c is not null);
        if (captioned > 0)
            _observer.Info($"Captions: {captioned} of {captions.Count} {kind} images have their own; the others use --{kind}_prompt.");
        const int contentTokens = Models.Tokenizers.ClipTokenizer.ModelMaxLength - 2;
        foreach (var caption in captions.OfType<ImageCaption>())
        {
            int tokens = tokenizer.Encode(caption.Text).Length;
            if (tokens > contentTokens)
                _observer.Warning($"The caption from '{caption.Source}' has {tokens} tokens; the text encoder takes {contentTokens}, so the rest is cut off.");
        }
        return [.. captions.Select(c => c?.Text ?? prompt)];
    }

    private IOptimizer CreateOptimizer(IReadOnlyList<(string Component, IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter)> Parameters)> trainable, double learningRate)
    {
        var o = _options;
        bool prodigy = o.Optimizer == OptimizerKind.Prodigy;
        if (prodigy && o.TextEncoderLearningRate is { } teLr && teLr != o.LearningRate && o.TrainTextEncoder)
            _observer.Warning($"--text_encoder_lr {Format(teLr)} is not used with Prodigy, which learns one step size for all parameters; the text encoders train at --learning_rate {Format(o.LearningRate)}.");
        // diffusers' SDXL script: the UNet at the learning rate, each text encoder in a group of its own.
        var groups = trainable.Select(c => c.Component == "unet"
            ? new ParameterGroup(c.Parameters)
            : new ParameterGroup(c.Parameters)
            {
                LearningRateScale = prodigy ? 1 : (o.TextEncoderLearningRate ?? learningRate) / learningRate,
                WeightDecay = o.TextEncoderWeightDecay,
            }).ToList();
        if (!prodigy) return new AdamW(groups, o.AdamBeta1, o.AdamBeta2, o.AdamWeightDecay, o.AdamEpsilon);
        // diffusers' scripts give the same advice: Prodigy's learning rate multiplies the step size it learns.
        if (o.LearningRate <= 0.1)
            _observer.Warning($"--learning_rate {Format(o.LearningRate)} is low for Prodigy, which learns its own step size; a learning rate around 1.0 is usual.");
        return new Prodigy(groups, o.Prodigy, o.AdamBeta1, o.AdamBeta2, o.AdamWeightDecay, o.AdamEpsilon);
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);

    private string SaveCheckpoint(CheckpointManager checkpoints, int step, TrainingModels models, IOptimizer optimizer, List<double> losses, int seed) =>
        checkpoints.Save(step, dir =>
        {
            foreach (var (component, peft) in models.Adapters) peft.SavePretrained(Path.Combine(dir, component));
            SafetensorsWriter.Save(Path.Combine(dir, OptimizerFile), optimizer.StateDict());
            var state = new TrainingState(step, seed, losses.ToList());
            File.WriteAllText(Path.Combine(dir, StateFile), JsonSerializer.Serialize(state, TrainingState.JsonOptions));
        });

    private static int LoadCheckpoint(string dir, TrainingModels models, IOptimizer optimizer, List<double> losses, ref int seed)
    {
        var statePath = Path.Combine(dir, StateFile);
        if (!File.Exists(statePath)) throw new InvalidDataException($"Checkpoint '{dir}' has no {StateFile}; it is incomplete or not a checkpoint of this trainer.");
        var state = JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(statePath), TrainingState.JsonOptions)
            ?? throw new InvalidDataException($"'{statePath}' is empty.");
        foreach (var (component, peft) in models.Adapters) LoadAdapter(peft, Path.Combine(dir, component));
        using (var scope = NewDisposeScope())
        {
            optimizer.LoadStateDict(SafetensorsFile.LoadAll(Path.Combine(dir, OptimizerFile)));
        }
        losses.AddRange(state.Losses);
        seed = state.Seed;
        return state.Step;
    }

    private static void LoadAdapter(Models.Adapters.PeftModel peft, string folder)
    {
        var weights = Path.Combine(folder, Models.Adapters.PeftModel.WeightsFileName);
        using var scope = NewDisposeScope();
        peft.SetAdapterStateDict(SafetensorsFile.LoadAll(weights), source: weights);
    }
}
