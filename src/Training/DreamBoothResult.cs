namespace Peft.Typed.Training;

/// <summary>What a finished run wrote.</summary>
/// <param name="OutputDir">The output folder.</param>
/// <param name="UnetAdapterDir">PEFT adapter folder of the UNet (adapter_config.json + adapter_model.safetensors).</param>
/// <param name="TextEncoderAdapterDir">PEFT adapter folder of the text encoder, when it was trained.</param>
/// <param name="Steps">Optimizer steps done.</param>
/// <param name="Losses">The loss of every optimizer step (mean over its accumulated micro-batches).</param>
public sealed record DreamBoothResult(string OutputDir, string UnetAdapterDir, string? TextEncoderAdapterDir, int Steps, IReadOnlyList<double> Losses)
{
    /// <summary>PEFT adapter folder of SDXL's text_encoder_2, when the text encoders were trained.</summary>
    public string? TextEncoder2AdapterDir { get; init; }
    public string? ValidationGrid { get; init; }
    public string? LossCurve { get; init; }
    public string? MergedUnetDir { get; init; }
    /// <summary>The single-file adapter exports (diffusers, kohya) written next to the PEFT folders.</summary>
    public IReadOnlyList<string> ExportedFiles { get; init; } = [];
}
