namespace Peft.Typed.Models.SafeTensors;

/// <summary>One header entry: name, dtype, shape and the byte range inside the data section.</summary>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}
