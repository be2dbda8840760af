namespace Peft.Typed.Models.Adapters.Lora;

/// <summary>PEFT's <c>init_lora_weights</c> values implemented here.</summary>
public enum LoraInit
{
    /// <summary><c>true</c>: A Kaiming-uniform (a = √5), B zero, so the adapter starts as a no-op.</summary>
    Default,

    /// <summary><c>"gaussian"</c>: A normal with std 1/r, B zero.</summary>
    Gaussian,

    /// <summary><c>false</c>: A and B both random (the layers' default init); for tests, not training.</summary>
    Random,
}
