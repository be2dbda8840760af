using Peft.Typed.Architecture.Configs;

namespace Peft.Typed.Generators.Emit;

/// <summary>
/// The .NET type of the runtime module built for each Python class (src/Models), so typed views return it. A class
/// not listed here is exposed as <c>nn.Module</c>.
/// </summary>
internal static class RuntimeTypes
{
    public const string Module = "global::TorchSharp.torch.nn.Module";
    public const string Typed = "global::Peft.Typed.Models.Typed";

    public static string Of(string className) => className switch
    {
        "Linear" or "Conv2d" or "LayerNorm" or "Dropout" or "SiLU" or "GELU" or "Mish" or "ReLU"
            => "global::TorchSharp.Modules." + className,
        "GroupNorm" or "Embedding" or "QuickGELUActivation" or "GELUActivation" or "Timesteps" or "TimestepEmbedding" or "ResnetBlock2D" or "Transformer2DModel"
            or "BasicTransformerBlock" or "Attention" or "FeedForward" or "GEGLU" or "Downsample2D" or "Upsample2D"
            => "global::Peft.Typed.Models.Layers." + className,
        "CrossAttnDownBlock2D" or "DownBlock2D" or "CrossAttnUpBlock2D" or "UpBlock2D" or "UNetMidBlock2DCrossAttn" or "UNet2DConditionModel"
            => "global::Peft.Typed.Models.Unet." + className,
        "Encoder" or "Decoder" or "DownEncoderBlock2D" or "UpDecoderBlock2D" or "UNetMidBlock2D" or "AutoencoderKL"
            => "global::Peft.Typed.Models.Vae." + className,
        "CLIPTextTransformer" or "CLIPTextEmbeddings" or "CLIPEncoder" or "CLIPEncoderLayer" or "CLIPAttention" or "CLIPMLP"
            or "CLIPTextModel" or "CLIPTextModelWithProjection"
            => "global::Peft.Typed.Models.Clip." + className,
        _ => Module,
    };

    /// <summary>The config class of a model kind.</summary>
    public static string ConfigOf(ArchitectureKind kind) => kind switch
    {
        ArchitectureKind.UNet2DConditionModel => "global::Peft.Typed.Architecture.Configs.UNet2DConditionConfig",
        ArchitectureKind.AutoencoderKL => "global::Peft.Typed.Architecture.Configs.AutoencoderKLConfig",
        _ => "global::Peft.Typed.Architecture.Configs.ClipTextConfig",
    };

    /// <summary>A one-line description of the model kind for doc comments.</summary>
    public static string Describe(ArchitectureKind kind) => kind switch
    {
        ArchitectureKind.UNet2DConditionModel => "diffusers <c>UNet2DConditionModel</c>",
        ArchitectureKind.AutoencoderKL => "diffusers <c>AutoencoderKL</c>",
        _ => $"transformers <c>{kind}</c>",
    };
}
