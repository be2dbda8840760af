using Peft.Typed.Testing;

namespace Peft.Typed.Models.Tests;

[CollectionDefinition(MemoryCollection.Name, DisableParallelization = true)]
public sealed class MemoryCollectionDefinition;
