using Peft.Typed.Models.Imaging;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Models.Tests.Support;
using Peft.Typed.Models.Unet;
using Peft.Typed.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Pipelines;

/// <summary>Text to image on the tiny pipeline: shapes, PNG output, determinism, guidance, prompt encoding against the CLIP fixture.</summary>
public class StableDiffusionPipelineTests(TinyPipelineFixture fixture) : IClassFixture<TinyPipelineFixture>
{
    private const string Prompt = "a photo of sks dog";

    private static readonly Lazy<Dictionary<string, Tensor>> ClipCase = new(() => ModuleFixture.LoadShared(Fixtures.PathOf("clip-text-tiny", "case.safetensors")));

    private StableDiffusionPipeline Pipeline => fixture.Pipeline;

    private static GenerationOptions Options(ulong seed, int steps = 3) => new()
    {
        NumInferenceSteps = steps,
        Height = 32,
        Width = 48,
        Generator = new Generator(seed),
    };

    [Fact]
    public void Text_to_image_writes_a_png_of_the_requested_size()
    {
        using var scope = NewDisposeScope();
        var images = Pipeline.Generate(Prompt, Options(seed: 1));

        Assert.Equal([1L, 3, 32, 48], images.shape);
        Assert.Equal(ScalarType.Float32, images.dtype);
        Assert.True(images.min().item<float>() >= 0 && images.max().item<float>() <= 1);
        Assert.True(images.std().item<float>() > 0, "the image is flat");

        var path = Path.Combine(Path.GetTempPath(), $"peft-typed-{Guid.NewGuid():N}.png");
        try
        {
            ImageTensors.SavePng(images[0], path);
            using var decoded = Image.Load<Rgb24>(path);
            Assert.Equal(48, decoded.Width);
            Assert.Equal(32, decoded.Height);
            var pixels = new byte[48 * 32 * 3];
            decoded.CopyPixelDataTo(pixels);
            Assert.Equal(ImageTensors.ToRgb8(images[0]), pixels);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_default_size_is_the_unet_sample_size_times_the_vae_factor()
    {
        using var scope = NewDisposeScope();
        var images = Pipeline.Generate(Prompt, new GenerationOptions { NumInferenceSteps = 1, Generator = new Generator(1) });
        Assert.Equal([1L, 3, 64, 64], images.shape);
    }

    [Fact]
    public void The_same_seed_gives_the_same_image_and_another_seed_another()
    {
        using var scope = NewDisposeScope();
        var first = Pipeline.Generate(Prompt, Options(seed: 7));
        // Another thread setting libtorch's count (the same one) switches MKL's own thread choice off process-wide,
        // unless the library did at load; the second image must not depend on it.
        var setter = new Thread(() => TorchRuntime.SetThreads(TorchRuntime.DefaultThreads));
        setter.Start();
        setter.Join();
        var again = Pipeline.Generate(Prompt, Options(seed: 7));
        var other = Pipeline.Generate(Prompt, Options(seed: 8));

        Identical.Tensors(first, again, "same seed, different images");
        Assert.True((first - other).abs().max().item<float>() > 1e-2, "different seeds, same image");
    }

    [Fact]
    public void A_negative_prompt_changes_the_image()
    {
        using var scope = NewDisposeScope();
        var plain = Pipeline.Generate(Prompt, Options(seed: 3));
        var negative = Pipeline.Generate(Prompt, Options(seed: 3) with { NegativePrompt = "blurry, low quality" });
        Assert.True((plain - negative).abs().max().item<float>() > 1e-2);
    }

    [Theory]
    [InlineData(1.0, 1)]
    [InlineData(0.5, 1)]
    [InlineData(7.5, 2)]
    public void Guidance_above_one_runs_the_unet_on_unconditional_and_conditional_rows(double guidance, long rowsPerImage)
    {
        using var scope = NewDisposeScope();
        var batches = new List<long>();
        var hook = Pipeline.Unet.register_forward_pre_hook((_, input) =>
        {
            batches.Add(input.Sample.shape[0]);
            return input;
        });
        try
        {
            Pipeline.Generate([Prompt, "a cat"], Options(seed: 2, steps: 4) with { GuidanceScale = guidance });
        }
        finally
        {
            hook.remove();
        }
        Assert.Equal(Enumerable.Repeat(2 * rowsPerImage, 4), batches);
    }

    // The reference loop runs the unconditional and conditional UNet passes separately (the pipeline batches them).
    [Theory]
    [InlineData(1.0)]
    [InlineData(7.5)]
    public void Sampling_equals_a_DDIM_loop_with_classifier_free_guidance(double guidance)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var images = Pipeline.Generate(Prompt, Options(seed: 11) with { GuidanceScale = guidance });

        var latents = randn([1, 4, 16, 24], generator: new Generator(11));
        var conditional = Encode(Prompt);
        var unconditional = Encode("");
        using var ddim = new DDIMScheduler(SchedulerConfig.FromFile(Fixtures.PathOf("schedulers", "ddim-epsilon", "scheduler_config.json")));
        ddim.SetTimesteps(3);
        foreach (var t in ddim.Timesteps.data<long>().ToArray())
        {
            var eps = Pipeline.Unet.call(new UNet2DConditionInput(latents, tensor(t), conditional));
            if (guidance > 1)
            {
                var uncond = Pipeline.Unet.call(new UNet2DConditionInput(latents, tensor(t), unconditional));
                eps = uncond.Add((eps - uncond).Mul(guidance));
            }
            latents = ddim.Step(eps, t, latents).PrevSample;
        }
        var expected = Pipeline.Vae.Decode(latents.Div(0.18215)).Div(2).Add(0.5).Clamp(0, 1);

        Compare.Close(expected, images, 1e-4, what: $"guidance {guidance}");
    }

    [Fact]
    public void Images_per_prompt_are_adjacent_and_differ()
    {
        using var scope = NewDisposeScope();
        var images = Pipeline.Generate([Prompt, "a cat"], Options(seed: 5) with { NumImagesPerPrompt = 2 });
        Assert.Equal([4L, 3, 32, 48], images.shape);
        Assert.True((images[0] - images[1]).abs().max().item<float>() > 1e-2);

        // Row 2 is the first image of the second prompt: the third noise sample of the generator.
        var single = Pipeline.Generate(["a cat"], Options(seed: 5) with { Latents = randn([4, 4, 16, 24], generator: new Generator(5))[2..3] });
        Compare.Close(single[0], images[2], 1e-5, what: "second prompt, first image");
    }

    [Fact]
    public void Given_latents_replace_the_generator_noise()
    {
        using var scope = NewDisposeScope();
        var drawn = Pipeline.Generate(Prompt, Options(seed: 9));
        var given = Pipeline.Generate(Prompt, Options(seed: 0) with { Generator = null, Latents = randn([1, 4, 16, 24], generator: new Generator(9)) });
        Identical.Tensors(drawn, given);
    }

    [Fact]
    public void Precomputed_embeddings_give_the_images_of_the_prompts()
    {
        using var scope = NewDisposeScope();
        var fromPrompts = Pipeline.Generate([Prompt], Options(seed: 4) with { NegativePrompt = "ugly" });
        using var embeddings = Pipeline.EncodePrompt([Prompt], ["ugly"]);
        var fromEmbeddings = Pipeline.Generate(embeddings, Options(seed: 4));
        Identical.Tensors(fromPrompts, fromEmbeddings);

        var latents = Pipeline.GenerateLatents(embeddings, Options(seed: 4));
        Assert.Equal([1L, 4, 16, 24], latents.shape);
        Identical.Tensors(Pipeline.DecodeLatents(latents), fromPrompts);
    }

    [Fact]
    public void Prompt_embeddings_are_the_text_encoder_outputs_of_the_clip_fixture()
    {
        using var scope = NewDisposeScope();
        using var plain = Pipeline.EncodePrompt([Prompt]);
        using var skipped = Pipeline.EncodePrompt([Prompt], clipSkip: 1);

        Compare.Close(ClipCase.Value["last_hidden_state"][0..1], plain.PromptEmbeds, 1e-4, 1e-4, what: "last_hidden_state");
        Compare.Close(ClipCase.Value["clip_skip_1"][0..1], skipped.PromptEmbeds, 1e-4, 1e-4, what: "clip_skip_1");
        // The unconditional row is the empty prompt, without clip skip (diffusers applies clip_skip to the prompt only).
        Compare.Close(Encode(""), plain.NegativePromptEmbeds!, 1e-6, what: "empty prompt");
        Identical.Tensors(skipped.NegativePromptEmbeds!, plain.NegativePromptEmbeds!);
        Assert.Null(plain.PooledPromptEmbeds);

        using var unguided = Pipeline.EncodePrompt([Prompt], classifierFreeGuidance: false);
        Assert.Null(unguided.NegativePromptEmbeds);
    }

    [Fact]
    public void A_run_keeps_only_its_images_alive_and_every_step_starts_from_the_same_live_count()
    {
        using var scope = NewDisposeScope();
        var liveAtUnetCall = new List<long>();
        var hook = Pipeline.Unet.register_forward_pre_hook((_, input) =>
        {
            liveAtUnetCall.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            return input;
        });
        try
        {
            var options = Options(seed: 6, steps: 5);
            var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            Pipeline.Generate(Prompt, options);
            Assert.Equal(before + 1, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }
        finally
        {
            hook.remove();
        }
        Assert.Equal(5, liveAtUnetCall.Count);
        Assert.All(liveAtUnetCall, count => Assert.Equal(liveAtUnetCall[0], count));
    }

    [Fact]
    public void Sizes_that_the_vae_cannot_produce_are_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => Pipeline.Generate(Prompt, Options(seed: 1) with { Width = 33 }));
        Assert.StartsWith("Width 33 must be a positive multiple of 2 (the VAE's downscaling factor).", error.Message);
    }

    [Fact]
    public void Prompt_options_with_precomputed_embeddings_are_rejected()
    {
        using var embeddings = Pipeline.EncodePrompt([Prompt]);
        var negative = Assert.Throws<ArgumentException>(() => Pipeline.Generate(embeddings, Options(seed: 1) with { NegativePrompt = "x" }));
        Assert.StartsWith("NegativePrompt is used when the pipeline encodes the prompts; with precomputed embeddings pass NegativePromptEmbeds instead.", negative.Message);
        var clipSkip = Assert.Throws<ArgumentException>(() => Pipeline.Generate(embeddings, Options(seed: 1) with { ClipSkip = 1 }));
        Assert.StartsWith("ClipSkip is used when the pipeline encodes the prompts; apply it in EncodePrompt instead.", clipSkip.Message);
    }

    [Fact]
    public void Guidance_without_negative_embeddings_is_rejected()
    {
        using var embeddings = Pipeline.EncodePrompt([Prompt], classifierFreeGuidance: false);
        var error = Assert.Throws<ArgumentException>(() => Pipeline.Generate(embeddings, Options(seed: 1)));
        Assert.StartsWith("Classifier-free guidance (GuidanceScale > 1) needs NegativePromptEmbeds: encode with classifierFreeGuidance: true.", error.Message);
    }

    [Fact]
    public void Latents_of_the_wrong_shape_are_rejected()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(() => Pipeline.Generate(Prompt, Options(seed: 1) with { Latents = zeros(1, 4, 16, 16) }));
        Assert.StartsWith("Latents must have shape [1, 4, 16, 24], got [1, 4, 16, 16].", error.Message);
    }

    [Fact]
    public void Clip_skip_beyond_the_encoder_depth_is_rejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Pipeline.EncodePrompt([Prompt], clipSkip: 3));
        Assert.StartsWith("ClipSkip must be between 0 and 2 for this text encoder (2 layers).", error.Message);
    }

    private Tensor Encode(string prompt)
    {
        var ids = Pipeline.Tokenizer.EncodeForModel(prompt).Ids.Select(i => (long)i).ToArray();
        using var noGrad = no_grad();
        return Pipeline.TextEncoder.call(tensor(ids, [1, ids.Length])).LastHiddenState;
    }
}
