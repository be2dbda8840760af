using System.Text.RegularExpressions;

namespace Peft.Typed.Training;

/// <summary>Writes a whole folder atomically: into a hidden sibling first, renamed over the target when complete.</summary>
public static partial class AtomicDirectory
{
    public static void Write(string path, Action<string> write)
    {
        var full = Path.GetFullPath(path);
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        var temporary = Path.Combine(parent, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
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
    /// Deletes what writes interrupted by a crash or kill left in <paramref name="parent"/>: unfinished temporary folders
    /// and replaced folders not yet deleted. Returns the names removed.
    /// </summary>
    public static IReadOnlyList<string> RemoveLeftovers(string parent)
    {
        if (!Directory.Exists(parent)) return [];
        var removed = new List<string>();
        foreach (var path in Directory.EnumerateDirectories(parent))
        {
            var name = Path.GetFileName(path);
            if (!Leftover().IsMatch(name)) continue;
            Directory.Delete(path, recursive: true);
            removed.Add(name);
        }
        return removed;
    }

    // The names Write gives its temporary (.name.<guid>.tmp) and replaced (name.<guid>.old) folders.
    [GeneratedRegex(@"^(\..+\.[0-9a-f]{32}\.tmp|.+\.[0-9a-f]{32}\.old)$")]
    private static partial Regex Leftover();
}
