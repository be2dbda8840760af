namespace Peft.Typed.Training;

/// <summary>The PEFT adapter trained by DreamBooth (PEFT script's <c>adapter</c> sub-command).</summary>
public enum AdapterKind
{
    Lora,
    LoHa,
    LoKr,
}
