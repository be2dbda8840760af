using Peft.Typed.Architecture.Reading;

namespace Peft.Typed.Architecture.Configs;

/// <summary>
/// Base of the typed configs. A config read from a file remembers that file, so problems found later
/// (when building the tree) still point at the right line and column.
/// </summary>
public abstract class ArchitectureConfig
{
    public abstract ArchitectureKind Kind { get; }

    /// <summary>The Python class the config describes: <c>UNet2DConditionModel</c>, <c>CLIPTextModelWithProjection</c>, ...</summary>
    public string ClassName => Kind.ToString();

    /// <summary>
    /// A copy whose properties can be set without changing this config (lists are shared: they are read-only). Lets a
    /// config parsed once hand out copies without parsing again.
    /// </summary>
    public ArchitectureConfig Clone() => (ArchitectureConfig)MemberwiseClone();

    /// <summary>The parsed file, or null for a config built in code.</summary>
    internal ConfigSource? Source { get; set; }
}
