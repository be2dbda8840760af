using Peft.Typed.Architecture.Configs;

namespace Peft.Typed.Generators.Models;

/// <summary>
/// Everything the emitter needs for one typed class, as plain values: names, the model class, the config text to
/// bake in and the module tree flattened in registration order (root first).
/// </summary>
internal sealed record TypedModelSpec(
    string FilePath,
    string Namespace,
    string ClassName,
    ArchitectureKind Kind,
    string ConfigJson,
    EquatableArray<ModuleSpec> Modules,
    long ParameterCount)
{
    /// <summary>The class with its namespace: <c>MyApp.Sd15Unet</c>.</summary>
    public string FullName => Namespace.Length == 0 ? ClassName : Namespace + "." + ClassName;
}
