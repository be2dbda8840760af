using Peft.Typed.Testing;

namespace Peft.Typed.Generators.Tests.Support;

/// <summary>The architecture files the tests generate from: the fixtures' config.json files and two published text encoder configs.</summary>
public static class ArchitectureInputs
{
    /// <summary>
    /// runwayml/stable-diffusion-v1-5 <c>text_encoder/config.json</c> as published (openai/clip-vit-large-patch14's text
    /// model: CLIPTextModel, hidden 768, 12 layers, 12 heads, intermediate 3072, quick_gelu, 77 positions, vocab 49408).
    /// Written here as test data because the fixtures carry no SD 1.5 text encoder config.
    /// </summary>
    public const string Sd15TextEncoderJson = """
        {
          "_name_or_path": "openai/clip-vit-large-patch14",
          "architectures": [
            "CLIPTextModel"
          ],
          "attention_dropout": 0.0,
          "bos_token_id": 0,
          "dropout": 0.0,
          "eos_token_id": 2,
          "hidden_act": "quick_gelu",
          "hidden_size": 768,
          "initializer_factor": 1.0,
          "initializer_range": 0.02,
          "intermediate_size": 3072,
          "layer_norm_eps": 1e-05,
          "max_position_embeddings": 77,
          "model_type": "clip_text_model",
          "num_attention_heads": 12,
          "num_hidden_layers": 12,
          "pad_token_id": 1,
          "projection_dim": 768,
          "torch_dtype": "float32",
          "transformers_version": "4.22.0.dev0",
          "vocab_size": 49408
        }
        """;

    /// <summary>
    /// stabilityai/stable-diffusion-xl-base-1.0 <c>text_encoder_2/config.json</c> as published (OpenCLIP bigG text model:
    /// CLIPTextModelWithProjection, hidden 1280, 32 layers, 20 heads, intermediate 5120, gelu, projection_dim 1280).
    /// Written here as test data because the fixtures carry no SDXL text encoder config.
    /// </summary>
    public const string SdxlTextEncoder2Json = """
        {
          "architectures": [
            "CLIPTextModelWithProjection"
          ],
          "attention_dropout": 0.0,
          "bos_token_id": 0,
          "dropout": 0.0,
          "eos_token_id": 2,
          "hidden_act": "gelu",
          "hidden_size": 1280,
          "initializer_factor": 1.0,
          "initializer_range": 0.02,
          "intermediate_size": 5120,
          "layer_norm_eps": 1e-05,
          "max_position_embeddings": 77,
          "model_type": "clip_text_model",
          "num_attention_heads": 20,
          "num_hidden_layers": 32,
          "pad_token_id": 1,
          "projection_dim": 1280,
          "torch_dtype": "float16",
          "transformers_version": "4.32.0.dev0",
          "vocab_size": 49408
        }
        """;

    public static ArchitectureInput Sd15Unet => Fixture("architectures/sd15-unet", "Sd15Unet");
    public static ArchitectureInput Sd21Unet => Fixture("architectures/sd21-unet", "Sd21Unet");
    public static ArchitectureInput SdxlUnet => Fixture("architectures/sdxl-base-unet", "SdxlUnet");
    public static ArchitectureInput SdVae => Fixture("architectures/sd-vae", "SdVae");
    public static ArchitectureInput SdxlVae => Fixture("architectures/sdxl-vae", "SdxlVae");
    public static ArchitectureInput TinyUnet => Fixture("unet-tiny", "TinyUnet");
    public static ArchitectureInput TinyVae => Fixture("vae-tiny", "TinyVae");
    public static ArchitectureInput TinyClipText => Fixture("clip-text-tiny", "TinyClipText");
    public static ArchitectureInput Sd15TextEncoder => new("/models/sd15/text_encoder/config.json", "Sd15TextEncoder", Sd15TextEncoderJson);
    public static ArchitectureInput SdxlTextEncoder2 => new("/models/sdxl/text_encoder_2/config.json", "SdxlTextEncoder2", SdxlTextEncoder2Json);

    /// <summary>Every input by name, for theories.</summary>
    public static ArchitectureInput ByName(string name) => name switch
    {
        "sd15-unet" => Sd15Unet,
        "sd21-unet" => Sd21Unet,
        "sdxl-unet" => SdxlUnet,
        "sd-vae" => SdVae,
        "sdxl-vae" => SdxlVae,
        "unet-tiny" => TinyUnet,
        "vae-tiny" => TinyVae,
        "clip-text-tiny" => TinyClipText,
        "sd15-text-encoder" => Sd15TextEncoder,
        "sdxl-text-encoder-2" => SdxlTextEncoder2,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    public static ArchitectureInput Fixture(string folder, string className)
    {
        var path = Fixtures.PathOf([.. folder.Split('/'), "config.json"]);
        return new ArchitectureInput(path, className, File.ReadAllText(path));
    }
}
