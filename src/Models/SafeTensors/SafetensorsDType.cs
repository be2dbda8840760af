namespace Peft.Typed.Models.SafeTensors;

/// <summary>
/// The element types of the safetensors format that map onto TorchSharp tensors, declared in the reference
/// implementation's order: its writer stores tensors from the last of these to the first, which keeps every
/// tensor aligned to its element size, and <see cref="SafetensorsWriter"/> does the same.
/// </summary>
public enum SafetensorsDType
{
    BOOL,
    U8,
    I8,
    I16,
    F16,
    BF16,
    I32,
    F32,
    F64,
    I64,
}
