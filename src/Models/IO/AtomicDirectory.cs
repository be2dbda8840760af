using System.Text.RegularExpressions;

namespace Peft.Typed.Models.IO;

/// <summary>
/// Writes a whole folder atomically: into a hidden temporary sibling first, renamed over the target when complete.
/// With <see cref="AtomicFile"/> it shares the temporary names that <see cref="RemoveLeftovers"/> recognises.
/// </summary>
public static partial class AtomicDirectory
{
    public static void Write(string path, Action<string> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temporary = TemporaryPath(full);
        Directory.CreateDirectory(temporary);
        try
        {
            write(temporary);
            if (Directory.Exists(full))
            {
                var stale = full + $".{Guid.NewGuid():N}.old";
                Directory.Move(full, stale);
                Directory.Move(temporary, full);
                Directory.Delete(stale, recursive: true);
            }
            else
            {
                Directory.Move(temporary, full);
            }
        }
        finally
        {
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        }
    }

    /// <summary>
    /// Deletes what writes interrupted by a crash or kill left in <paramref name="parent"/>: unfinished temporary files
    /// and folders, and replaced folders not yet deleted. Returns the names removed.
    /// </summary>
    public static IReadOnlyList<string> RemoveLeftovers(string parent)
    {
        if (!Directory.Exists(parent)) return [];
        var removed = new List<string>();
        foreach (var path in Directory.EnumerateFileSystemEntries(parent))
        {
            var name = Path.GetFileName(path);
            if (!Leftover().IsMatch(name)) continue;
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else File.Delete(path);
            removed.Add(name);
        }
        return removed;
    }

    /// <summary>The hidden temporary sibling a write of <paramref name="fullPath"/> goes through: <c>.name.&lt;guid&gt;.tmp</c>.</summary>
    internal static string TemporaryPath(string fullPath) =>
        Path.Combine(Path.GetDirectoryName(fullPath)!, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");

    // The names of temporary (.name.<guid>.tmp) and replaced (name.<guid>.old) entries.
    [GeneratedRegex(@"^(\..+\.[0-9a-f]{32}\.tmp|.+\.[0-9a-f]{32}\.old)$")]
    private static partial Regex Leftover();
}
