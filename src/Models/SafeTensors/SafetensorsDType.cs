namespace Peft.Typed.Models.SafeTensors;

/// <summary>The element types of the safetensors format that map onto TorchSharp tensors.</summary>
public enum SafetensorsDType
{
    BOOL,
    U8,
    I8,
    I16,
    I32,
    I64,
    F16,
    BF16,
    F32,
    F64,
}
