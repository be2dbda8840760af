using System.Globalization;
using Peft.Typed.Models.IO;

namespace Peft.Typed.Training.Checkpoints;

/// <summary>
/// Training checkpoints as <c>output_dir/checkpoint-&lt;step&gt;</c> folders, like accelerate's layout in the diffusers
/// scripts. A checkpoint is written into a hidden temporary folder and renamed into place only when complete, so an
/// interrupted save never leaves a half-written checkpoint that "latest" could pick up.
/// </summary>
public sealed class CheckpointManager
{
    private const string Prefix = "checkpoint-";

    public CheckpointManager(string outputDirectory, int? totalLimit = null)
    {
        if (totalLimit is <= 0) throw new ArgumentOutOfRangeException(nameof(totalLimit), totalLimit, "checkpoints_total_limit must be > 0.");
        OutputDirectory = outputDirectory;
        TotalLimit = totalLimit;
    }

    public string OutputDirectory { get; }
    public int? TotalLimit { get; }

    /// <summary>Completed checkpoints, oldest first.</summary>
    public IReadOnlyList<(int Step, string Path)> List()
    {
        if (!Directory.Exists(OutputDirectory)) return [];
        return Directory.EnumerateDirectories(OutputDirectory, Prefix + "*")
            .Select(path => (Ok: int.TryParse(Path.GetFileName(path)[Prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var step), Step: step, Path: path))
            .Where(c => c.Ok)
            .OrderBy(c => c.Step)
            .Select(c => (c.Step, c.Path))
            .ToList();
    }

    /// <summary>The newest checkpoint, or null when there is none.</summary>
    public string? Latest() => List() is { Count: > 0 } all ? all[^1].Path : null;

    /// <summary>
    /// Writes checkpoint <paramref name="step"/> by calling <paramref name="write"/> with an empty temporary folder,
    /// then renames it into place, and finally prunes the oldest checkpoints beyond the total limit.
    /// </summary>
    public string Save(int step, Action<string> write)
    {
        var final = Path.Combine(OutputDirectory, Prefix + step.ToString(CultureInfo.InvariantCulture));
        AtomicDirectory.Write(final, write);
        Prune();
        return final;
    }

    /// <summary>Resolves <c>--resume_from_checkpoint</c>: "latest" (null when none exists yet) or a checkpoint folder.</summary>
    public string? Resolve(string resumeFrom)
    {
        if (resumeFrom == "latest") return Latest();
        var path = Path.IsPathRooted(resumeFrom) || Directory.Exists(resumeFrom) ? resumeFrom : Path.Combine(OutputDirectory, resumeFrom);
        if (!Directory.Exists(path))
            throw new DirectoryNotFoundException($"--resume_from_checkpoint: checkpoint '{resumeFrom}' does not exist (looked for '{Path.GetFullPath(path)}').");
        return path;
    }

    /// <summary>The step a checkpoint folder was written at.</summary>
    public static int StepOf(string checkpointPath)
    {
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(checkpointPath));
        if (!name.StartsWith(Prefix, StringComparison.Ordinal) || !int.TryParse(name[Prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var step))
            throw new ArgumentException($"'{checkpointPath}' is not a checkpoint folder (expected a name like checkpoint-500).", nameof(checkpointPath));
        return step;
    }

    private void Prune()
    {
        if (TotalLimit is not { } limit) return;
        var all = List();
        foreach (var (_, path) in all.Take(Math.Max(0, all.Count - limit))) Directory.Delete(path, recursive: true);
    }
}
