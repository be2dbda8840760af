namespace Peft.Typed.Training.Tests.Trainer;

/// <summary>The hidden <c>create-default-model</c> command reproduces the shipped embedded model, also in an empty folder.</summary>
[Trait("Category", "Slow")]
[Collection(TrainerCollection.Name)]
public sealed class DefaultModelCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-default-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void An_empty_folder_gets_the_configs_and_the_same_weights_as_the_shipped_model()
    {
        var target = Path.Combine(_dir, "DefaultModel");
        var run = ChildProcess.Run(ChildProcess.Executable("TrainerExecutable"), ["create-default-model", target], TimeSpan.FromMinutes(5));
        Assert.True(run.ExitCode == 0, run.Log);

        var shipped = TrainerFixture.DefaultModel;
        var files = Directory.EnumerateFiles(shipped, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(shipped, f)).Order().ToList();
        Assert.Equal(files, Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(target, f)).Order());
        foreach (var file in files.Where(f => f.EndsWith(".safetensors", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal)))
            Assert.True(File.ReadAllBytes(Path.Combine(shipped, file)).SequenceEqual(File.ReadAllBytes(Path.Combine(target, file))), $"{file} differs from the shipped one");
    }
}
