using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.IO;
using Peft.Typed.Models.Loading;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Models.Tokenizers;
using Peft.Typed.Models.Unet;
using Peft.Typed.Models.Vae;
using Peft.Typed.Training.Data.Shapes;
using Peft.Typed.Training.Optimization;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Pretraining;

/// <summary>
/// Pre-trains a tiny Stable Diffusion from scratch on the captioned-shapes data set (<see cref="ShapeScenes"/>), with
/// full-parameter training by this library's own pieces: first the VAE (reconstruction MSE plus a small KL term), then
/// the UNet and the text encoder together on the VAE's latents with <see cref="DiffusionTrainingStep"/> (Min-SNR
/// weighted, captions dropped for classifier-free guidance, an exponential moving average of the weights saved).
/// Training the text encoder too is what makes the captions' colour and position words reach the UNet quickly: a
/// frozen random CLIP tells words apart, but the UNet alone learnt to follow them far more slowly. The VAE's
/// <c>scaling_factor</c> is measured as Stable Diffusion's was: one over the standard deviation of the training latents.
/// </summary>
public static class ShapesPretraining
{
    /// <summary>
    /// Trains the model described by <paramref name="modelFolder"/>'s configs (a diffusers Stable Diffusion folder:
    /// <c>unet/</c>, <c>vae/</c>, <c>text_encoder/</c> config.json, <c>tokenizer/</c>, <c>scheduler/</c>) and writes
    /// its weights there in float16, plus the measured <c>scaling_factor</c> into <c>vae/config.json</c>.
    /// </summary>
    /// <param name="log">Receives progress lines (twenty per phase, with the mean loss since the last).</param>
    public static ShapesPretrainingResult Run(string modelFolder, ShapesPretrainingOptions options, Action<string>? log = null)
    {
        options.Validate();
        log ??= _ => { };
        var clock = Stopwatch.StartNew();
        var unetFolder = Path.Combine(modelFolder, "unet");
        var vaeFolder = Path.Combine(modelFolder, "vae");
        var textEncoderFolder = Path.Combine(modelFolder, "text_encoder");
        var tokenizer = ClipTokenizer.FromFolder(Path.Combine(modelFolder, "tokenizer"));
        var schedulerConfig = SchedulerConfig.FromFile(Path.Combine(modelFolder, "scheduler", "scheduler_config.json"));

        // Each model is initialised from the seed alone, whatever the others draw.
        manual_seed(options.Seed);
        using var vae = new AutoencoderKL(PretrainedFolder.ReadConfig<AutoencoderKLConfig>(vaeFolder));
        manual_seed(options.Seed);
        using var textEncoder = new CLIPTextModel(PretrainedFolder.ReadConfig<ClipTextConfig>(textEncoderFolder));
        manual_seed(options.Seed);
        using var unet = new UNet2DConditionModel(PretrainedFolder.ReadConfig<UNet2DConditionConfig>(unetFolder));

        var random = new Random(options.Seed);
        var (train, _) = ShapeScenes.Split(options.Seed, options.HeldBackScenes);
        var scenes = train.SelectMany(scene => Enumerable.Repeat(scene, options.RendersPerScene)).ToList();
        using var images = ShapeScenes.Render(scenes, options.Resolution, random);
        log($"Data: {train.Count} training scenes × {options.RendersPerScene} renders at {options.Resolution} px; {options.HeldBackScenes} scenes held back.");

        var vaeLosses = TrainVae(vae, images, options, random, log);
        vae.eval();
        foreach (var p in vae.parameters()) p.requires_grad = false;
        var (mean, std) = EncodeAll(vae, images);
        using var latentMean = mean;
        using var latentStd = std;
        // Rounded as config.json stores it, so the UNet trains on the latents the pipeline will decode.
        vae.Config.ScalingFactor = Math.Round(MeasureScalingFactor(latentMean, latentStd, options.Seed), 5);
        log($"VAE scaling_factor: {vae.Config.ScalingFactor:G6}");

        var captions = train.Select(s => s.Caption).Prepend("").ToList();
        using var captionIds = DiffusionPipeline.TokenIds(tokenizer, captions);
        var sceneCaption = scenes.Select(s => (long)(captions.IndexOf(s.Caption))).ToArray();

        using var noiseScheduler = new DDPMScheduler(schedulerConfig);
        var step = new DiffusionTrainingStep(vae, textEncoder, unet, noiseScheduler, new DiffusionObjective { SnrGamma = options.SnrGamma });
        var unetLosses = TrainUnet(unet, textEncoder, step, latentMean, latentStd, captionIds, sceneCaption, options, random, log);

        SafetensorsWriter.SaveModule(vae, Path.Combine(vaeFolder, "diffusion_pytorch_model.safetensors"), ScalarType.Float16);
        SafetensorsWriter.SaveModule(textEncoder, Path.Combine(textEncoderFolder, "model.safetensors"), ScalarType.Float16);
        SafetensorsWriter.SaveModule(unet, Path.Combine(unetFolder, "diffusion_pytorch_model.safetensors"), ScalarType.Float16);
        WriteScalingFactor(Path.Combine(vaeFolder, "config.json"), vae.Config.ScalingFactor);
        log($"Wrote the weights into {Path.GetFullPath(modelFolder)} ({clock.Elapsed.TotalMinutes:F1} min).");
        return new ShapesPretrainingResult(vaeLosses, unetLosses, vae.Config.ScalingFactor, clock.Elapsed);
    }

    /// <summary>
    /// The recipe's quality check: <paramref name="samplesPerScene"/> images of each caption <paramref name="options"/>
    /// held back from training, at the recipe's guidance scale, read back by <see cref="ShapeCaptionCheck"/>.
    /// </summary>
    public static IReadOnlyList<ShapeCaptionSample> CheckHeldBackCaptions(DiffusionPipeline pipeline, ShapesPretrainingOptions options, int samplesPerScene = 4, int seed = 1)
    {
        var (_, heldBack) = ShapeScenes.Split(options.Seed, options.HeldBackScenes);
        return ShapeCaptionCheck.Run(pipeline, heldBack, samplesPerScene, seed, options.GuidanceScale);
    }

    /// <summary>
    /// The recipe's VAE check: every scene of the data set, one jittered render each, through <paramref name="vae"/>
    /// and back through <paramref name="pipeline"/>'s VAE, read by <see cref="ShapeCaptionCheck.RoundTrip"/>.
    /// </summary>
    public static IReadOnlyList<ShapeCaptionSample> CheckVaeRoundTrip(DiffusionPipeline pipeline, ShapesPretrainingOptions options, int seed = 1) =>
        ShapeCaptionCheck.RoundTrip(pipeline, ShapeScenes.All, options.Resolution, seed);

    private static List<double> TrainVae(AutoencoderKL vae, Tensor images, ShapesPretrainingOptions o, Random random, Action<string> log)
    {
        var clock = Stopwatch.StartNew();
        vae.train();
        using var optimizer = new AdamW(vae.named_parameters().Select(p => (p.name, p.parameter)).ToList());
        var schedule = new LearningRateSchedule(LearningRateScheduler.Cosine, Math.Min(o.WarmupSteps, o.VaeSteps / 10), o.VaeSteps);
        using var generator = new Generator((ulong)o.Seed);
        var losses = new List<double>(o.VaeSteps);
        for (int s = 0; s < o.VaeSteps; s++)
        {
            using var scope = NewDisposeScope();
            var batch = images.index_select(0, Batch(random, images.shape[0], o.VaeBatchSize));
            var posterior = vae.Encode(batch);
            var latents = posterior.Mean.Add(posterior.Std * randn(posterior.Mean.shape, generator: generator));
            var reconstruction = vae.Decode(latents);
            var kl = posterior.Mean.mul(posterior.Mean).Add(posterior.Var).Sub(1).sub(posterior.LogVar).mean().Mul(0.5);
            var loss = nn.functional.mse_loss(reconstruction, batch).Add(kl.Mul(o.VaeKlWeight));
            loss.backward();
            nn.utils.clip_grad_norm_(optimizer.Parameters, o.MaxGradNorm);
            optimizer.Step(o.VaeLearningRate * schedule.Factor(s));
            optimizer.ZeroGrad();
            losses.Add(loss.item<float>());
            if ((s + 1) % LogEvery(o.VaeSteps) == 0) log($"VAE step {s + 1}/{o.VaeSteps}: loss {Mean(losses, LogEvery(o.VaeSteps)):G4} ({clock.Elapsed.TotalSeconds:F0} s)");
        }
        return losses;
    }

    /// <summary>The VAE posterior of every image, mean and std [N, C, h, w], without gradients.</summary>
    private static (Tensor Mean, Tensor Std) EncodeAll(AutoencoderKL vae, Tensor images)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var means = new List<Tensor>();
        var stds = new List<Tensor>();
        foreach (var chunk in images.split(64))
        {
            var posterior = vae.Encode(chunk);
            means.Add(posterior.Mean);
            stds.Add(posterior.Std);
        }
        return (cat(means).MoveToOuterDisposeScope(), cat(stds).MoveToOuterDisposeScope());
    }

    private static double MeasureScalingFactor(Tensor mean, Tensor std, int seed)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var sample = mean.Add(std * randn(mean.shape, generator: generator));
        return 1 / sample.std().item<float>();
    }

    private static List<double> TrainUnet(UNet2DConditionModel unet, CLIPTextModel textEncoder, DiffusionTrainingStep step, Tensor latentMean, Tensor latentStd,
        Tensor captionIds, long[] sceneCaption, ShapesPretrainingOptions o, Random random, Action<string> log)
    {
        var clock = Stopwatch.StartNew();
        unet.train();
        textEncoder.train();
        var parameters = unet.named_parameters().Select(p => ("unet." + p.name, p.parameter))
            .Concat(textEncoder.named_parameters().Select(p => ("text_encoder." + p.name, p.parameter))).ToList();
        using var optimizer = new AdamW(parameters);
        using var ema = new ExponentialMovingAverage(parameters.Select(p => p.parameter).ToList(), o.EmaDecay);
        var schedule = new LearningRateSchedule(LearningRateScheduler.Cosine, o.WarmupSteps, o.UnetSteps);
        using var generator = new Generator((ulong)o.Seed + 1);
        using var captionIndex = tensor(sceneCaption);
        var losses = new List<double>(o.UnetSteps);
        for (int s = 0; s < o.UnetSteps; s++)
        {
            using var scope = NewDisposeScope();
            var batch = Batch(random, latentMean.shape[0], o.UnetBatchSize);
            var latents = step.SampleLatents(latentMean.index_select(0, batch), latentStd.index_select(0, batch), generator);
            // Caption dropout: index 0 of the captions is the empty one.
            var dropped = Enumerable.Range(0, o.UnetBatchSize).Select(_ => random.NextDouble() < o.CaptionDropout).ToArray();
            var captionOf = captionIndex.index_select(0, batch).MaskedFill(tensor(dropped), 0);
            var (noise, timesteps) = step.SampleNoise(latents, generator);
            var loss = step.Loss(latents, step.EncodePrompts(captionIds.index_select(0, captionOf)), noise, timesteps).Loss;
            loss.backward();
            nn.utils.clip_grad_norm_(optimizer.Parameters, o.MaxGradNorm);
            optimizer.Step(o.UnetLearningRate * schedule.Factor(s));
            optimizer.ZeroGrad();
            ema.Update();
            losses.Add(loss.item<float>());
            if ((s + 1) % LogEvery(o.UnetSteps) == 0) log($"UNet step {s + 1}/{o.UnetSteps}: loss {Mean(losses, LogEvery(o.UnetSteps)):G4} ({clock.Elapsed.TotalSeconds:F0} s)");
        }
        ema.CopyTo();
        unet.eval();
        textEncoder.eval();
        return losses;
    }

    private static Tensor Batch(Random random, long count, int size) =>
        tensor(Enumerable.Range(0, size).Select(_ => random.NextInt64(count)).ToArray());

    /// <summary>Twenty progress lines per phase.</summary>
    private static int LogEvery(int steps) => Math.Max(1, steps / 20);

    private static double Mean(List<double> losses, int last) => losses.Skip(Math.Max(0, losses.Count - last)).Average();

    private static void WriteScalingFactor(string configPath, double scalingFactor)
    {
        var config = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject
            ?? throw new InvalidDataException($"'{configPath}' must be a JSON object.");
        config["scaling_factor"] = scalingFactor;
        AtomicFile.WriteAllBytes(configPath, System.Text.Encoding.UTF8.GetBytes(config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n"));
    }
}

/// <summary>What <see cref="ShapesPretraining.Run"/> trained: the per-step losses and the measured VAE scaling factor.</summary>
public sealed record ShapesPretrainingResult(IReadOnlyList<double> VaeLosses, IReadOnlyList<double> UnetLosses, double ScalingFactor, TimeSpan Elapsed);
