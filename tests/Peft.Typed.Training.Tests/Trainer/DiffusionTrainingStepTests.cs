using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Models.Unet;
using Peft.Typed.Testing;
using Peft.Typed.Training.Data;
using Peft.Typed.Training.Optimization;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Tests.Trainer;

/// <summary>The public training step that app code drives in its own loop, checked against the objective written out here.</summary>
[Collection(TrainerCollection.Name)]
public sealed class DiffusionTrainingStepTests
{
    private static string ModelFolder => Path.Combine(TrainerFixture.DefaultModel, "model");

    [Theory]
    [InlineData(PredictionType.Epsilon)]
    [InlineData(PredictionType.VPrediction)]
    public void The_loss_is_the_mse_to_the_target_plus_the_weighted_prior_term(PredictionType prediction)
    {
        using var pipeline = StableDiffusionPipeline.FromPretrained(ModelFolder);
        using var noiseScheduler = new DDPMScheduler(pipeline.SchedulerConfig);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var step = new DiffusionTrainingStep(pipeline.Vae, pipeline.TextEncoder, pipeline.Unet, noiseScheduler,
            new DiffusionObjective { PredictionType = prediction, PriorLossWeight = 0.5 });
        using var generator = new Generator(3);
        var latents = randn([3, 4, 8, 8], generator: generator);
        var noise = randn([3, 4, 8, 8], generator: generator);
        var hidden = randn([3, 77, pipeline.TextEncoder.Config.HiddenSize], generator: generator);
        var timesteps = tensor(new long[] { 10, 500, 990 });

        var result = step.Loss(latents, hidden, noise, timesteps, priorExamples: 1);

        // x_t = sqrt(ᾱ_t)·x_0 + sqrt(1 − ᾱ_t)·ε; the velocity target is sqrt(ᾱ_t)·ε − sqrt(1 − ᾱ_t)·x_0.
        var alphaBar = noiseScheduler.AlphasCumprod.index_select(0, timesteps).view(3, 1, 1, 1);
        var signal = alphaBar.sqrt();
        var sigma = alphaBar.RSub(1).sqrt();
        var noisy = (signal * latents).Add(sigma * noise);
        var predicted = pipeline.Unet.call(new UNet2DConditionInput(noisy, timesteps, hidden));
        var target = prediction == PredictionType.VPrediction ? (signal * noise).Add((sigma * latents).neg()) : noise;
        var instance = nn.functional.mse_loss(predicted.narrow(0, 0, 2), target.narrow(0, 0, 2));
        var priorTerm = nn.functional.mse_loss(predicted.narrow(0, 2, 1), target.narrow(0, 2, 1));

        Assert.Equal(instance.Add(priorTerm.Mul(0.5)).item<float>(), result.Loss.item<float>(), 1e-6f);
        Assert.Equal(priorTerm.item<float>(), result.PriorLoss!.item<float>(), 1e-6f);
    }

    [Fact]
    public void An_app_loop_over_the_step_trains_a_lora_adapter()
    {
        manual_seed(11);
        using var pipeline = StableDiffusionPipeline.FromPretrained(ModelFolder);
        using var noiseScheduler = new DDPMScheduler(pipeline.SchedulerConfig);
        foreach (var p in pipeline.Unet.parameters().Concat(pipeline.TextEncoder.parameters()).Concat(pipeline.Vae.parameters())) p.requires_grad = false;
        var peft = PeftModel.Create(pipeline.Unet, new LoraConfig { R = 4, LoraAlpha = 4, TargetModules = SeedTargets.UnetMinimal });
        var trainable = pipeline.Unet.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        Assert.NotEmpty(trainable);
        using var optimizer = new AdamW(trainable, weightDecay: 0);
        var step = new DiffusionTrainingStep(pipeline.Vae, pipeline.TextEncoder, pipeline.Unet, noiseScheduler);

        var image = Directory.GetFiles(Path.Combine(TrainerFixture.DefaultModel, "instance_images")).Order().First();
        using var pixels = new ImageTransform(32, CenterCrop: true, RandomFlip: false).Apply(image, new Random(0)).unsqueeze(0);
        var encoding = pipeline.Tokenizer.EncodeForModel("a photo of sks toy");
        using var ids = tensor(encoding.Ids.Select(i => (long)i).ToArray(), [1, encoding.Ids.Length]);

        var losses = new List<float>();
        for (int i = 0; i < 12; i++)
        {
            using var scope = NewDisposeScope();
            // The same latent sample, noise and timestep each step: the loss on it must fall.
            using var generator = new Generator(5);
            var loss = step.Loss(pixels, ids, generator).Loss;
            losses.Add(loss.item<float>());
            loss.backward();
            optimizer.Step(1e-2);
            optimizer.ZeroGrad();
        }
        Assert.True(losses.Zip(losses.Skip(1)).All(p => p.Second < p.First) && losses[^1] < 0.95f * losses[0], $"losses: {string.Join(", ", losses)}");
        Assert.Equal(SeedTargets.UnetMinimal, peft.PeftConfig[PeftModel.DefaultAdapterName].TargetModules);
    }

    [Fact]
    public void Typed_targets_of_another_architecture_are_refused_before_anything_is_written()
    {
        var config = Fixtures.PathOf("architectures", "sd15-unet", "config.json");
        var sd15 = ModuleCatalog.FromTree("Sd15Unet", ArchitectureDescription.Parse(File.ReadAllText(config), config).BuildTree());
        var outputDir = Path.Combine(Path.GetTempPath(), "peft-typed-step-" + Guid.NewGuid().ToString("N"));
        var options = TrainerFixture.Options(outputDir) with
        {
            UnetAdapter = new LoraConfig { TargetModules = sd15.Named(["to_q"]) },
        };

        var ex = Assert.Throws<DreamBoothOptionException>(() => new DreamBoothTrainer(options, new RecordingObserver()).Run());

        Assert.Equal("unet_target_modules", ex.Option);
        Assert.True(ex.Message.StartsWith("--unet_target_modules: the targets were selected in Sd15Unet, but the UNet being trained is another architecture (", StringComparison.Ordinal), ex.Message);
        Assert.False(Directory.Exists(outputDir));
    }
}
