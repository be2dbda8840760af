namespace Peft.Typed.Training;

/// <summary>
/// Adapter settings for one model (UNet or text encoder), as the PEFT DreamBooth script's <c>--unet_*</c> and
/// <c>--te_*</c> arguments. Fields a kind does not use are ignored by it, as in the script.
/// </summary>
public sealed record AdapterOptions
{
    public int Rank { get; init; } = 8;
    public double Alpha { get; init; } = 8;
    /// <summary>LoRA dropout on the adapter input.</summary>
    public double Dropout { get; init; }
    /// <summary>LoRA bias mode: none, all or lora_only.</summary>
    public string Bias { get; init; } = "none";
    public double RankDropout { get; init; }
    public double ModuleDropout { get; init; }
    public bool UseEffectiveConv2d { get; init; }
    public bool DecomposeBoth { get; init; }
    public int DecomposeFactor { get; init; } = -1;
    public TargetPreset Targets { get; init; } = TargetPreset.Comprehensive;
}
