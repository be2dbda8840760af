namespace Peft.Typed.Generators.Tests.Support;

/// <summary>Tests sharing one compiled <see cref="GeneratedAssembly"/>.</summary>
[CollectionDefinition(Name)]
public sealed class GeneratedAssemblyCollection : ICollectionFixture<GeneratedAssembly>
{
    public const string Name = "Generated assembly";
}
