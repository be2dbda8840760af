using System.Collections.Generic;

namespace Peft.Typed.Architecture.Tree;

/// <summary>A parameter with its full state-dict name (<c>down_blocks.0.resnets.0.conv1.weight</c>) and its module.</summary>
public sealed class NamedParameter
{
    public NamedParameter(string name, ModuleNode module, ParameterSpec spec)
    {
        Name = name;
        Module = module;
        Spec = spec;
    }

    /// <summary>"module path.parameter name", the checkpoint key.</summary>
    public string Name { get; }

    public ModuleNode Module { get; }
    public ParameterSpec Spec { get; }
    public IReadOnlyList<long> Shape => Spec.Shape;

    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
}
