namespace Peft.Typed.Architecture.Json;

public enum JsonValueKind
{
    Object,
    Array,
    String,
    Number,
    Boolean,
    Null,
}
