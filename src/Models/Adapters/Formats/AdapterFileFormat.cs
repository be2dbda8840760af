namespace Peft.Typed.Models.Adapters.Formats;

/// <summary>The adapter file formats Stable Diffusion tools exchange (docs/interop.md).</summary>
public enum AdapterFileFormat
{
    /// <summary>PEFT's folder: adapter_config.json + adapter_model.safetensors, one folder per model component.</summary>
    Peft,

    /// <summary>diffusers' single file (<c>pytorch_lora_weights.safetensors</c>): LoRA only, no alpha (loaded at scale 1).</summary>
    Diffusers,

    /// <summary>kohya-ss / A1111 / ComfyUI single file (<c>lora_unet_…</c>), LoRA keys and LyCORIS LoHa/LoKr keys, alpha per module.</summary>
    Kohya,
}
