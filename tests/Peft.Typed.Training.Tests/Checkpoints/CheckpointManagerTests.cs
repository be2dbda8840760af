using Peft.Typed.Models.IO;
using Peft.Typed.Training.Checkpoints;

namespace Peft.Typed.Training.Tests.Checkpoints;

public sealed class CheckpointManagerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Total_limit_keeps_the_newest_checkpoints()
    {
        var manager = new CheckpointManager(_dir, totalLimit: 2);
        foreach (var step in new[] { 10, 20, 30 }) manager.Save(step, d => File.WriteAllText(Path.Combine(d, "state.txt"), step.ToString()));
        Assert.Equal([20, 30], manager.List().Select(c => c.Step));
        Assert.Equal(Path.Combine(_dir, "checkpoint-30"), manager.Latest());
        Assert.Equal("30", File.ReadAllText(Path.Combine(manager.Latest()!, "state.txt")));
    }

    [Fact]
    public void Failed_save_leaves_no_checkpoint_behind()
    {
        var manager = new CheckpointManager(_dir);
        manager.Save(5, d => File.WriteAllText(Path.Combine(d, "ok.txt"), "5"));
        Assert.Throws<IOException>(() => manager.Save(6, d =>
        {
            File.WriteAllText(Path.Combine(d, "partial.txt"), "half");
            throw new IOException("disk full");
        }));
        Assert.Equal([5], manager.List().Select(c => c.Step));
        Assert.Single(Directory.EnumerateFileSystemEntries(_dir));
    }

    [Fact]
    public void Latest_ignores_unfinished_temporary_folders_and_resolves_paths()
    {
        var manager = new CheckpointManager(_dir);
        Assert.Null(manager.Resolve("latest"));
        manager.Save(100, _ => { });
        Directory.CreateDirectory(Path.Combine(_dir, ".checkpoint-200.abc.tmp"));
        Assert.Equal(Path.Combine(_dir, "checkpoint-100"), manager.Resolve("latest"));
        Assert.Equal(Path.Combine(_dir, "checkpoint-100"), manager.Resolve("checkpoint-100"));
        Assert.Equal(100, CheckpointManager.StepOf(manager.Resolve("latest")!));
        var ex = Assert.Throws<DirectoryNotFoundException>(() => manager.Resolve("checkpoint-7"));
        Assert.StartsWith("--resume_from_checkpoint: checkpoint 'checkpoint-7' does not exist", ex.Message);
    }

    [Fact]
    public void Saving_an_existing_step_replaces_it_whole()
    {
        var manager = new CheckpointManager(_dir);
        manager.Save(1, d => File.WriteAllText(Path.Combine(d, "old.txt"), "old"));
        manager.Save(1, d => File.WriteAllText(Path.Combine(d, "new.txt"), "new"));
        var files = Directory.GetFiles(Path.Combine(_dir, "checkpoint-1")).Select(Path.GetFileName);
        Assert.Equal(["new.txt"], files);
    }

    [Fact]
    public void Leftovers_of_interrupted_writes_are_removed_and_nothing_else()
    {
        var manager = new CheckpointManager(_dir);
        manager.Save(3, _ => { });
        const string guid = "0123456789abcdef0123456789abcdef";
        string[] leftovers = [$".checkpoint-6.{guid}.tmp", $"unet.{guid}.old"];
        string[] kept = ["checkpoint-3", ".checkpoint-6.tmp", "logs", $"unet.{guid}"];
        foreach (var name in leftovers.Concat(kept.Skip(1))) Directory.CreateDirectory(Path.Combine(_dir, name));

        Assert.Equal(leftovers.Order(), AtomicDirectory.RemoveLeftovers(_dir).Order());
        Assert.Equal(kept.Order(), Directory.EnumerateDirectories(_dir).Select(Path.GetFileName).Order());
    }
}
