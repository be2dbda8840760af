namespace Peft.Typed.Architecture.Diagnostics;

/// <summary>What kind of problem a diagnostic reports; the source generator maps each to a stable diagnostic id.</summary>
public enum ArchitectureDiagnosticCode
{
    /// <summary>The file is not valid JSON (or has a duplicate key).</summary>
    MalformedJson,

    /// <summary>Neither a supported <c>_class_name</c> nor a supported <c>architectures</c> entry.</summary>
    UnknownModelClass,

    /// <summary>An option has the wrong JSON type (a string where an integer is expected, ...).</summary>
    InvalidOptionType,

    /// <summary>A block type that has no builder (<c>AttnDownBlock2D</c>, ...).</summary>
    UnknownBlockType,

    /// <summary>A valid diffusers/transformers value this library does not implement (<c>act_fn</c> "tanh", <c>class_embed_type</c> set, ...).</summary>
    UnsupportedOptionValue,

    /// <summary>Per-block lists whose lengths disagree (<c>block_out_channels</c> vs <c>down_block_types</c>, ...).</summary>
    ListLengthMismatch,

    /// <summary>A value no model can have (0 layers, channels not divisible by the GroupNorm groups, ...).</summary>
    InvalidOptionValue,

    /// <summary>A key the model class does not know; diffusers ignores it with a warning, so do we.</summary>
    UnknownOption,
}
