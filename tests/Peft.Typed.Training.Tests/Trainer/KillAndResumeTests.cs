using System.Diagnostics;
using Peft.Typed.Training.Checkpoints;
using Xunit.Abstractions;

namespace Peft.Typed.Training.Tests.Trainer;

/// <summary>
/// The crash test of the trainer executable: a real child process is killed (SIGKILL, no chance to clean up) at a
/// random moment after its first checkpoint, then resumed with <c>--resume_from_checkpoint latest</c>; it must end
/// with the adapter weights of an uninterrupted run with the same seed.
/// </summary>
[Trait("Category", "Slow")]
[Collection(TrainerCollection.Name)]
public sealed class KillAndResumeTests(ITestOutputHelper output) : IDisposable
{
    private const int Steps = 30;
    private const int CheckpointEvery = 3;

    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-kill-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string TrainerDll => ChildProcess.Executable("TrainerExecutable");

    private static string[] Arguments(string outputDir) =>
    [
        "--pretrained_model_name_or_path", Path.Combine(TrainerFixture.DefaultModel, "model"),
        "--instance_data_dir", Path.Combine(TrainerFixture.DefaultModel, "instance_images"),
        "--instance_prompt", "a photo of sks toy",
        "--output_dir", outputDir,
        "--resolution", "32", "--center_crop", "--train_batch_size", "1",
        "--learning_rate", "1e-3", "--lr_warmup_steps", "0",
        "--max_train_steps", Steps.ToString(), "--checkpointing_steps", CheckpointEvery.ToString(), "--seed", "7",
        .. TrainerFixture.FixedThreads,
    ];

    [Fact]
    public void A_killed_run_resumed_from_latest_ends_with_the_weights_of_an_uninterrupted_run()
    {
        Assert.True(File.Exists(TrainerDll), $"the trainer executable was not built: {TrainerDll}");
        var timeout = TimeSpan.FromMinutes(5);

        var fullDir = Path.Combine(_dir, "full");
        var clock = Stopwatch.StartNew();
        using (var full = new ChildProcess(TrainerDll, Arguments(fullDir)))
            Assert.True(full.WaitForExit(timeout) == 0, full.Log);
        var uninterrupted = clock.Elapsed;

        var killedDir = Path.Combine(_dir, "killed");
        var firstCheckpoint = Path.Combine(killedDir, $"checkpoint-{CheckpointEvery}");
        clock.Restart();
        using (var victim = new ChildProcess(TrainerDll, Arguments(killedDir)))
        {
            while (!Directory.Exists(firstCheckpoint))
            {
                Assert.False(victim.HasExited, "the trainer exited before its first checkpoint:\n" + victim.Log);
                Assert.True(clock.Elapsed < timeout, "no checkpoint within the timeout:\n" + victim.Log);
                Thread.Sleep(10);
            }
            // A random moment within the first half of the training time still ahead of this run (judged by the full run).
            var ahead = uninterrupted - clock.Elapsed;
            var delay = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * Math.Max(ahead.TotalMilliseconds, 0) * 0.5);
            Thread.Sleep(delay);
            Assert.False(victim.HasExited, "the trainer finished before it could be killed:\n" + victim.Log);
            victim.Kill();
            output.WriteLine($"killed {delay.TotalMilliseconds:F0} ms after the first checkpoint");
        }
        Assert.False(Directory.Exists(Path.Combine(killedDir, "unet")), "a killed run must not have written its final adapter");
        var checkpoints = new CheckpointManager(killedDir).List().Select(c => c.Step);
        output.WriteLine($"checkpoints left by the killed run: steps {string.Join(", ", checkpoints)}");

        using (var resumed = new ChildProcess(TrainerDll, [.. Arguments(killedDir), "--resume_from_checkpoint", "latest"]))
        {
            Assert.True(resumed.WaitForExit(timeout) == 0, resumed.Log);
            Assert.Contains("Resumed from ", resumed.Log);
            Assert.Contains($"Done: {Steps} steps", resumed.Log);
        }

        float difference = TrainerFixture.MaxDifference(
            TrainerFixture.AdapterWeights(Path.Combine(fullDir, "unet")), TrainerFixture.AdapterWeights(Path.Combine(killedDir, "unet")));
        output.WriteLine($"largest adapter weight difference: {difference}");
        Assert.True(difference <= 1e-6f, $"adapter weights differ by {difference}");
        Assert.Empty(Directory.GetDirectories(killedDir, ".*.tmp"));
    }
}
