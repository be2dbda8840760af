namespace Peft.Typed.Models.Adapters.Lora;

/// <summary>PEFT's <c>bias</c> option: which biases train (and are saved) with a LoRA adapter.</summary>
public enum LoraBias
{
    /// <summary><c>"none"</c>: no bias trains.</summary>
    None,

    /// <summary><c>"all"</c>: every bias of the model trains and is saved.</summary>
    All,

    /// <summary><c>"lora_only"</c>: the biases of the adapted layers train and are saved (as <c>&lt;module&gt;.base_layer.bias</c>).</summary>
    LoraOnly,
}
