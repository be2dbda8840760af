using Peft.Typed.Testing;

namespace Peft.Typed.Training.Tests.Trainer;

/// <summary>The typed training code the docs show is the sample's code, which the build compiles and a test runs.</summary>
public sealed class DocumentationTests
{
    [Theory]
    [InlineData("README.md")]
    [InlineData("docs/generator.md")]
    public void The_docs_show_the_typed_sample_verbatim(string document)
    {
        static string Normalize(string text) => text.Replace("\r\n", "\n");
        var program = Normalize(File.ReadAllText(Path.Combine(Fixtures.RepoRoot, "samples", "Peft.Typed.TypedDreamBooth", "Program.cs")));
        var text = Normalize(File.ReadAllText(Path.Combine(Fixtures.RepoRoot, document)));
        Assert.True(text.Contains("```csharp\n" + program + "```", StringComparison.Ordinal),
            $"{document} must show samples/Peft.Typed.TypedDreamBooth/Program.cs verbatim in a csharp code block");
    }
}
