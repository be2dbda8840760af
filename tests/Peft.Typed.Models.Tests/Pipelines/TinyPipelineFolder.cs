using Peft.Typed.Testing;

namespace Peft.Typed.Models.Tests.Pipelines;

/// <summary>
/// A diffusers StableDiffusionPipeline folder assembled in a temporary directory from the tiny fixtures: unet-tiny
/// (cross_attention_dim 32, 4 latent channels), vae-tiny (downsamples by 2), clip-text-tiny (hidden 32), the CLIP
/// tokenizer and the ddim-epsilon scheduler config. Deleted on dispose.
/// </summary>
public sealed class TinyPipelineFolder : IDisposable
{
    public const string ModelIndex = """
        {
          "_class_name": "StableDiffusionPipeline",
          "_diffusers_version": "0.27.2",
          "feature_extractor": [null, null],
          "requires_safety_checker": false,
          "safety_checker": [null, null],
          "scheduler": ["diffusers", "DDIMScheduler"],
          "text_encoder": ["transformers", "CLIPTextModel"],
          "tokenizer": ["transformers", "CLIPTokenizer"],
          "unet": ["diffusers", "UNet2DConditionModel"],
          "vae": ["diffusers", "AutoencoderKL"]
        }
        """;

    public TinyPipelineFolder()
    {
        Path = Directory.CreateTempSubdirectory("peft-typed-pipeline-").FullName;
        File.WriteAllText(Combine("model_index.json"), ModelIndex);
        CopyFixture("unet-tiny", "unet", "config.json", "diffusion_pytorch_model.safetensors");
        CopyFixture("vae-tiny", "vae", "config.json", "diffusion_pytorch_model.safetensors");
        CopyFixture("clip-text-tiny", "text_encoder", "config.json", "model.safetensors");
        CopyFixture("clip-tokenizer", "tokenizer", "vocab.json", "merges.txt");
        CopyFixture(System.IO.Path.Combine("schedulers", "ddim-epsilon"), "scheduler", "scheduler_config.json");
    }

    /// <summary>The pipeline folder.</summary>
    public string Path { get; }

    /// <summary>A path inside the pipeline folder.</summary>
    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Copies files of a fixture folder into a component folder of the pipeline.</summary>
    public void CopyFixture(string fixture, string component, params string[] files)
    {
        Directory.CreateDirectory(Combine(component));
        foreach (var file in files) File.Copy(Fixtures.PathOf(fixture, file), Combine(component, file), overwrite: true);
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
