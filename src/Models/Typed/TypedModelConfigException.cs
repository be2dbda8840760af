using Peft.Typed.Architecture.Configs;

namespace Peft.Typed.Models.Typed;

/// <summary>A model or model folder whose config differs from the config.json a typed class was generated from.</summary>
public sealed class TypedModelConfigException : Exception
{
    public TypedModelConfigException(string typedClass, string source, IReadOnlyList<ConfigDifference> differences)
        : base($"{source} does not match {typedClass}, which was generated from another config.json: "
            + string.Join("; ", differences.Select(d => $"{d.Key} is {d.Actual}, {typedClass} has {d.Expected}")) + ".")
    {
        TypedClass = typedClass;
        Differences = differences;
    }

    /// <summary>The generated class (<c>Sd15Unet</c>).</summary>
    public string TypedClass { get; }

    /// <summary>Every key that differs, in config order.</summary>
    public IReadOnlyList<ConfigDifference> Differences { get; }
}
