namespace Peft.Typed.Generators.Tests.Support;

/// <summary>An adapter_config.json as an app declares it: path, <c>PeftAdapterFor</c> metadata (the typed class) and text.</summary>
public sealed record AdapterInput(string Path, string ModelClass, string Text);
