using System.Collections.Generic;
using System.Linq;

namespace Peft.Typed.Architecture.Tree;

/// <summary>A parameter of one module: its local name (<c>weight</c>) and shape.</summary>
public sealed class ParameterSpec
{
    public ParameterSpec(string name, IReadOnlyList<long> shape)
    {
        Name = name;
        Shape = shape;
    }

    public string Name { get; }
    public IReadOnlyList<long> Shape { get; }

    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
}
