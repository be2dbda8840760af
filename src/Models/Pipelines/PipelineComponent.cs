namespace Peft.Typed.Models.Pipelines;

/// <summary>One component entry of <c>model_index.json</c>: <c>"unet": ["diffusers", "UNet2DConditionModel"]</c>.</summary>
/// <param name="Name">The key, which is also the component's folder (<c>unet</c>, <c>text_encoder_2</c>, ...).</param>
/// <param name="Library">The library that defines the class (<c>diffusers</c>, <c>transformers</c>).</param>
/// <param name="ClassName">The class saved in that folder.</param>
public sealed record PipelineComponent(string Name, string Library, string ClassName);
