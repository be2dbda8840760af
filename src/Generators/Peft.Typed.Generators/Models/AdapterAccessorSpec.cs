namespace Peft.Typed.Generators.Models;

/// <summary>
/// One shipped adapter config's accessor: the file, the namespace and nested class name (<c>Adapters.Style</c>, from the
/// file's folder), the typed class it is for, and the JSON text to bake in.
/// </summary>
internal sealed record AdapterAccessorSpec(string FilePath, string Namespace, string Name, string ModelFullName, string Json);
