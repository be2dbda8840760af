namespace Peft.Typed.Architecture.Targeting;

/// <summary>A module of the model to adapt: its qualified name and its class (<c>Linear</c>, <c>Conv2d</c>, <c>GroupNorm</c>).</summary>
public sealed class ModuleEntry
{
    public ModuleEntry(string name, string kind)
    {
        Name = name;
        Kind = kind;
    }

    public string Name { get; }

    public string Kind { get; }

    public override string ToString() => $"{Name} ({Kind})";
}
