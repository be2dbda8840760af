namespace Peft.Typed.Architecture.Configs;

/// <summary>The model classes an architecture file can describe; each value is spelled like the Python class.</summary>
public enum ArchitectureKind
{
    /// <summary>diffusers <c>UNet2DConditionModel</c> (<c>"_class_name": "UNet2DConditionModel"</c>).</summary>
    UNet2DConditionModel,

    /// <summary>diffusers <c>AutoencoderKL</c> (<c>"_class_name": "AutoencoderKL"</c>).</summary>
    AutoencoderKL,

    /// <summary>transformers <c>CLIPTextModel</c> (<c>"architectures": ["CLIPTextModel"]</c>, SD text_encoder).</summary>
    CLIPTextModel,

    /// <summary>transformers <c>CLIPTextModelWithProjection</c> (SDXL text_encoder_2).</summary>
    CLIPTextModelWithProjection,
}
