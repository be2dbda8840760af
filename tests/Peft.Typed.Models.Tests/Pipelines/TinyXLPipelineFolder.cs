using Peft.Typed.Architecture.Configs;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Loading;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Unet;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Pipelines;

/// <summary>
/// A StableDiffusionXLPipeline folder with SDXL's structure at toy size: text_encoder = clip-text-tiny (hidden 32, fixture
/// weights), text_encoder_2 = a CLIPTextModelWithProjection (hidden 32, projection 32, random weights), tokenizer_2
/// padding with "!" as SDXL's does, a "text_time" UNet with cross_attention_dim 32 + 32 = 64 and
/// projection_class_embeddings_input_dim 6 × 8 + 32 = 80 (random weights), vae-tiny, and an EulerDiscreteScheduler config.
/// </summary>
/// <remarks>
/// Models built from a config without a checkpoint get their parameters from <see cref="FillDeterministically"/>; the
/// GroupNorms must start as weight 1, bias 0, which <see cref="Layers.LayerFactory"/> sees to (TorchSharp 0.107 leaves
/// them uninitialised).
/// </remarks>
public sealed class TinyXLPipelineFolder : IDisposable
{
    public const string UnetConfig = """
        {
          "_class_name": "UNet2DConditionModel",
          "addition_embed_type": "text_time",
          "addition_time_embed_dim": 8,
          "attention_head_dim": [2, 4],
          "block_out_channels": [32, 64],
          "cross_attention_dim": 64,
          "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
          "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
          "in_channels": 4,
          "out_channels": 4,
          "layers_per_block": 1,
          "norm_num_groups": 32,
          "projection_class_embeddings_input_dim": 80,
          "sample_size": 16,
          "transformer_layers_per_block": [1, 2],
          "use_linear_projection": true
        }
        """;

    public const string TextEncoder2Config = """
        {
          "architectures": ["CLIPTextModelWithProjection"],
          "bos_token_id": 0,
          "eos_token_id": 2,
          "hidden_act": "gelu",
          "hidden_size": 32,
          "intermediate_size": 37,
          "layer_norm_eps": 1e-05,
          "max_position_embeddings": 77,
          "model_type": "clip_text_model",
          "num_attention_heads": 2,
          "num_hidden_layers": 2,
          "pad_token_id": 1,
          "projection_dim": 32,
          "vocab_size": 49408
        }
        """;

    private const string SchedulerConfig = """
        {
          "_class_name": "EulerDiscreteScheduler",
          "_diffusers_version": "0.19.0.dev0",
          "beta_end": 0.012,
          "beta_schedule": "scaled_linear",
          "beta_start": 0.00085,
          "clip_sample": false,
          "interpolation_type": "linear",
          "num_train_timesteps": 1000,
          "prediction_type": "epsilon",
          "sample_max_value": 1.0,
          "set_alpha_to_one": false,
          "skip_prk_steps": true,
          "steps_offset": 1,
          "timestep_spacing": "leading",
          "trained_betas": null,
          "use_karras_sigmas": false
        }
        """;

    public TinyXLPipelineFolder(bool forceZerosForEmptyPrompt = true)
    {
        Folder = new TinyPipelineFolder();
        File.WriteAllText(Folder.Combine("model_index.json"), $$"""
            {
              "_class_name": "StableDiffusionXLPipeline",
              "_diffusers_version": "0.19.0.dev0",
              "force_zeros_for_empty_prompt": {{(forceZerosForEmptyPrompt ? "true" : "false")}},
              "scheduler": ["diffusers", "EulerDiscreteScheduler"],
              "text_encoder": ["transformers", "CLIPTextModel"],
              "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
              "tokenizer": ["transformers", "CLIPTokenizer"],
              "tokenizer_2": ["transformers", "CLIPTokenizer"],
              "unet": ["diffusers", "UNet2DConditionModel"],
              "vae": ["diffusers", "AutoencoderKL"]
            }
            """);
        File.WriteAllText(Folder.Combine("scheduler", "scheduler_config.json"), SchedulerConfig);
        Folder.CopyFixture("clip-tokenizer", "tokenizer_2", "vocab.json", "merges.txt");
        File.WriteAllText(Folder.Combine("tokenizer_2", "special_tokens_map.json"), """{ "pad_token": "!" }""");

        File.WriteAllText(Folder.Combine("unet", "config.json"), UnetConfig);
        using (var unet = new UNet2DConditionModel(PretrainedFolder.ReadConfig<UNet2DConditionConfig>(Folder.Combine("unet"))))
            Save(unet, seed: 1, Folder.Combine("unet", "diffusion_pytorch_model.safetensors"));

        Directory.CreateDirectory(Folder.Combine("text_encoder_2"));
        File.WriteAllText(Folder.Combine("text_encoder_2", "config.json"), TextEncoder2Config);
        using (var textEncoder2 = new CLIPTextModelWithProjection(PretrainedFolder.ReadConfig<ClipTextConfig>(Folder.Combine("text_encoder_2"))))
            Save(textEncoder2, seed: 2, Folder.Combine("text_encoder_2", "model.safetensors"));
    }

    public TinyPipelineFolder Folder { get; }

    public string Path => Folder.Path;

    /// <summary>
    /// Deterministic weights without the global RNG: matrices and kernels N(0, 1)/sqrt(fan_in) from a seeded generator,
    /// vectors named <c>bias</c> 0, other vectors (norm scales) 1.
    /// </summary>
    public static void FillDeterministically(nn.Module module, ulong seed)
    {
        using var noGrad = no_grad();
        using var generator = new Generator(seed);
        foreach (var (name, parameter) in module.named_parameters())
        {
            using var scope = NewDisposeScope();
            if (parameter.dim() >= 2)
                parameter.copy_(randn(parameter.shape, generator: generator).Div(Math.Sqrt(parameter.numel() / parameter.shape[0])));
            else if (name.EndsWith("bias", StringComparison.Ordinal))
                parameter.zero_();
            else
                parameter.FillInPlace(1);
        }
    }

    private static void Save(nn.Module module, ulong seed, string path)
    {
        FillDeterministically(module, seed);
        SafetensorsWriter.Save(path, module.state_dict());
    }

    public void Dispose() => Folder.Dispose();
}
