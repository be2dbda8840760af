namespace Peft.Typed.Models.Adapters;

/// <summary>The adapter kinds implemented here, as PEFT's <c>peft_type</c> names them (<c>LORA</c>, <c>LOHA</c>, <c>LOKR</c>).</summary>
public enum PeftType
{
    Lora,
    LoHa,
    LoKr,
}
