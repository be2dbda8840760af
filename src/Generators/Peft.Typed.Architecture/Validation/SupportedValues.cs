namespace Peft.Typed.Architecture.Validation;

/// <summary>The option values the tree builders implement; everything else is reported by the validators.</summary>
internal static class SupportedValues
{
    public static readonly string[] UNetDownBlocks = { "DownBlock2D", "CrossAttnDownBlock2D" };
    public static readonly string[] UNetUpBlocks = { "UpBlock2D", "CrossAttnUpBlock2D" };
    public static readonly string[] UNetMidBlocks = { "UNetMidBlock2DCrossAttn" };
    public static readonly string[] VaeDownBlocks = { "DownEncoderBlock2D" };
    public static readonly string[] VaeUpBlocks = { "UpDecoderBlock2D" };
    public static readonly string[] ClipArchitectures = { "CLIPTextModel", "CLIPTextModelWithProjection" };
    public static readonly string[] ClipActivations = { "quick_gelu", "gelu" };

    /// <summary>diffusers' get_activation names (matched lower-cased, as diffusers does).</summary>
    public static readonly string[] DiffusersActivations = { "silu", "swish", "mish", "gelu", "relu" };

    /// <summary>diffusers strips a "UNetRes" prefix from block type names (get_down_block/get_up_block).</summary>
    public static string BlockClass(string blockType) =>
        blockType.StartsWith("UNetRes", System.StringComparison.Ordinal) ? blockType.Substring(7) : blockType;

    /// <summary>The torch class diffusers' get_activation returns for a supported act_fn.</summary>
    public static string DiffusersActivationClass(string actFn) => actFn.ToLowerInvariant() switch
    {
        "silu" or "swish" => "SiLU",
        "mish" => "Mish",
        "gelu" => "GELU",
        "relu" => "ReLU",
        _ => throw new System.ArgumentException($"Unsupported act_fn '{actFn}'.", nameof(actFn)),
    };

    /// <summary>The transformers ACT2FN class for a supported hidden_act.</summary>
    public static string ClipActivationClass(string hiddenAct) => hiddenAct switch
    {
        "quick_gelu" => "QuickGELUActivation",
        "gelu" => "GELUActivation",
        _ => throw new System.ArgumentException($"Unsupported hidden_act '{hiddenAct}'.", nameof(hiddenAct)),
    };

    public static bool Contains(string[] values, string value) => System.Array.IndexOf(values, value) >= 0;
}
