namespace Peft.Typed.Testing;

/// <summary>Name of the xunit collection for tests that measure process memory and must not run beside others.</summary>
public static class MemoryCollection
{
    public const string Name = "Memory";
}
