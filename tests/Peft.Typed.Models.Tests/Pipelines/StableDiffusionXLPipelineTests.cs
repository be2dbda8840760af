using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Pipelines;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Models.Tests.Support;
using Peft.Typed.Models.Tokenizers;
using Peft.Typed.Models.Unet;
using Peft.Typed.Models.Vae;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Pipelines;

/// <summary>SDXL-shaped smoke tests on a toy SDXL folder: two text encoders, pooled embeddings, size micro-conditioning.</summary>
public class StableDiffusionXLPipelineTests(TinyXLPipelineFixture fixture) : IClassFixture<TinyXLPipelineFixture>
{
    private const string Prompt = "a photo of sks dog";

    private static readonly Lazy<Dictionary<string, Tensor>> ClipCase = new(() => ModuleFixture.LoadShared(Fixtures.PathOf("clip-text-tiny", "case.safetensors")));

    private StableDiffusionXLPipeline Pipeline => fixture.Pipeline;

    private static GenerationOptions Options(ulong seed) => new()
    {
        NumInferenceSteps = 2,
        GuidanceScale = 5.0,
        Height = 32,
        Width = 32,
        Generator = new Generator(seed),
    };

    [Fact]
    public void The_folder_loads_as_SDXL()
    {
        Assert.Equal(0, Pipeline.Tokenizer2.PadId);
        Assert.Equal(49407, Pipeline.Tokenizer.PadId);
        Assert.Equal(1, Pipeline.SchedulerConfig.StepsOffset);
    }

    [Fact]
    public void The_generic_loader_gives_the_class_model_index_names_and_the_typed_loaders_refuse_the_other_class()
    {
        using var folder = new TinyXLPipelineFolder();
        using (var pipeline = DiffusionPipeline.FromPretrained(folder.Path))
        {
            var xl = Assert.IsType<StableDiffusionXLPipeline>(pipeline);
            Assert.Same(xl.TextEncoder2, xl.Models["text_encoder_2"]);
        }
        var error = Assert.Throws<InvalidDataException>(() => StableDiffusionPipeline.FromPretrained(folder.Path));
        Assert.Equal($"'{Path.Combine(folder.Path, "model_index.json")}': _class_name 'StableDiffusionXLPipeline' is not a StableDiffusionPipeline; load it with DiffusionPipeline.FromPretrained.", error.Message);

        using var sdFolder = new TinyPipelineFolder();
        Assert.Throws<InvalidDataException>(() => StableDiffusionXLPipeline.FromPretrained(sdFolder.Path));
    }

    [Fact]
    public void Text_to_image_gives_deterministic_images_in_unit_range()
    {
        using var scope = NewDisposeScope();
        var images = Pipeline.Generate([Prompt, "a cat"], Options(seed: 1));
        var again = Pipeline.Generate([Prompt, "a cat"], Options(seed: 1));

        Assert.Equal([2L, 3, 32, 32], images.shape);
        Assert.True(images.isfinite().all().item<bool>());
        Assert.True(images.min().item<float>() >= 0 && images.max().item<float>() <= 1);
        Identical.Tensors(images, again, "same seed, different images");
    }

    [Fact]
    public void The_unet_gets_both_text_encoders_the_pooled_embedding_and_the_size_conditioning()
    {
        using var scope = NewDisposeScope();
        var inputs = new List<UNet2DConditionInput>();
        var hook = Pipeline.Unet.register_forward_pre_hook((_, input) =>
        {
            // Copies that outlive the pipeline's step scope, owned by this test's scope.
            Tensor Keep(Tensor t)
            {
                var copy = t.clone().DetachFromDisposeScope();
                scope.Attach(copy);
                return copy;
            }
            inputs.Add(input with { EncoderHiddenStates = Keep(input.EncoderHiddenStates), TextEmbeds = Keep(input.TextEmbeds!), TimeIds = Keep(input.TimeIds!) });
            return input;
        });
        try
        {
            Pipeline.Generate([Prompt, "a cat"], Options(seed: 2) with { OriginalSize = (64, 48), CropsCoordsTopLeft = (4, 2) });
        }
        finally
        {
            hook.remove();
        }

        Assert.Equal(2, inputs.Count);
        var first = inputs[0];
        Assert.Equal([4L, 77, 64], first.EncoderHiddenStates.shape);
        Assert.Equal([4L, 32], first.TextEmbeds!.shape);
        // Rows 0-1 unconditional, 2-3 conditional; the negative rows are zeros (force_zeros_for_empty_prompt).
        Assert.Equal(0f, first.EncoderHiddenStates[0..2].abs().max().item<float>());
        Assert.Equal(0f, first.TextEmbeds[0..2].abs().max().item<float>());
        Assert.True(first.TextEmbeds[2..4].abs().max().item<float>() > 0);
        float[] timeIds = [64, 48, 4, 2, 32, 32];
        Assert.Equal(Enumerable.Repeat(timeIds, 4).SelectMany(r => r), first.TimeIds!.data<float>().ToArray());
    }

    [Fact]
    public void Prompt_embeddings_concatenate_the_penultimate_hidden_states_of_both_encoders()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var embeddings = Pipeline.EncodePrompt([Prompt]);
        using var skipped = Pipeline.EncodePrompt([Prompt], clipSkip: 1);

        // text_encoder is clip-text-tiny: hidden_states[-2] is the fixture's hidden_states.1, clip skip 1 gives hidden_states.0.
        Compare.Close(ClipCase.Value["hidden_states.1"][0..1], embeddings.PromptEmbeds[.., .., ..32], 1e-4, 1e-4, what: "text_encoder hidden_states[-2]");
        Compare.Close(ClipCase.Value["hidden_states.0"][0..1], skipped.PromptEmbeds[.., .., ..32], 1e-4, 1e-4, what: "text_encoder hidden_states[-3]");

        var ids2 = Ids(Pipeline.Tokenizer2, Prompt);
        Assert.Equal(0L, ids2[0, 76].item<long>()); // tokenizer_2 pads with "!" = 0
        var second = Pipeline.TextEncoder2.call(ids2);
        Compare.Close(second.HiddenStates[^2], embeddings.PromptEmbeds[.., .., 32..], 1e-6, what: "text_encoder_2 hidden_states[-2]");
        Compare.Close(second.TextEmbeds, embeddings.PooledPromptEmbeds!, 1e-6, what: "pooled text_embeds");

        Assert.Equal(0f, embeddings.NegativePromptEmbeds!.abs().max().item<float>());
        Assert.Equal(0f, embeddings.NegativePooledPromptEmbeds!.abs().max().item<float>());
    }

    [Fact]
    public void An_explicit_negative_prompt_is_encoded_instead_of_zeros()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var embeddings = Pipeline.EncodePrompt([Prompt], [""]);
        var first = Pipeline.TextEncoder.call(Ids(Pipeline.Tokenizer, "")).HiddenStates[^2];
        var second = Pipeline.TextEncoder2.call(Ids(Pipeline.Tokenizer2, ""));
        Compare.Close(cat([first, second.HiddenStates[^2]], -1), embeddings.NegativePromptEmbeds!, 1e-6, what: "negative embeds");
        Compare.Close(second.TextEmbeds, embeddings.NegativePooledPromptEmbeds!, 1e-6, what: "negative pooled");
    }

    [Fact]
    public void Without_force_zeros_the_empty_prompt_is_encoded()
    {
        using var folder = new TinyXLPipelineFolder(forceZerosForEmptyPrompt: false);
        using var pipeline = StableDiffusionXLPipeline.FromPretrained(folder.Path);
        using var scope = NewDisposeScope();
        using var implicitEmpty = pipeline.EncodePrompt([Prompt]);
        using var explicitEmpty = pipeline.EncodePrompt([Prompt], [""]);
        Assert.True(implicitEmpty.NegativePromptEmbeds!.abs().max().item<float>() > 0);
        Identical.Tensors(explicitEmpty.NegativePromptEmbeds!, implicitEmpty.NegativePromptEmbeds!);
        Identical.Tensors(explicitEmpty.NegativePooledPromptEmbeds!, implicitEmpty.NegativePooledPromptEmbeds!);
    }

    [Fact]
    public void A_float16_SDXL_pipeline_keeps_a_force_upcast_vae_in_float32()
    {
        using var folder = new TinyXLPipelineFolder();
        using var pipeline = StableDiffusionXLPipeline.FromPretrained(folder.Path, ScalarType.Float16);
        Assert.Equal(ScalarType.Float16, pipeline.DType);
        Assert.Equal(ScalarType.Float16, pipeline.TextEncoder2.parameters().First().dtype);
        Assert.Equal(ScalarType.Float32, pipeline.Vae.parameters().First().dtype);
    }

    [Fact]
    public void An_added_embedding_width_that_does_not_fit_is_rejected()
    {
        var unetConfig = ArchitectureDescription.Parse<UNet2DConditionConfig>(
            TinyXLPipelineFolder.UnetConfig.Replace("\"projection_class_embeddings_input_dim\": 80", "\"projection_class_embeddings_input_dim\": 88"), "unet/config.json");
        var textConfig2 = ArchitectureDescription.Parse<ClipTextConfig>(TinyXLPipelineFolder.TextEncoder2Config, "text_encoder_2/config.json");
        using var unet = new UNet2DConditionModel(unetConfig);
        using var vae = AutoencoderKL.FromPretrained(Fixtures.PathOf("vae-tiny"));
        using var textEncoder = CLIPTextModel.FromPretrained(Fixtures.PathOf("clip-text-tiny"));
        using var textEncoder2 = new CLIPTextModelWithProjection(textConfig2);
        var tokenizer = ClipTokenizer.FromFolder(Fixtures.PathOf("clip-tokenizer"));
        var components = new StableDiffusionXLComponents(unet, vae, textEncoder, tokenizer, textEncoder2, tokenizer, new SchedulerConfig());

        var error = Assert.Throws<ArgumentException>(() => new StableDiffusionXLPipeline(components));
        Assert.StartsWith("unet projection_class_embeddings_input_dim 88 does not match 6 × addition_time_embed_dim 8 + text_encoder_2 projection_dim 32 = 80.", error.Message);
    }

    private static Tensor Ids(ClipTokenizer tokenizer, string prompt) =>
        tensor(tokenizer.EncodeForModel(prompt).Ids.Select(i => (long)i).ToArray(), [1, ClipTokenizer.ModelMaxLength]);
}
