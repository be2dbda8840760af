namespace Peft.Typed.Training;

/// <summary>Writes a whole folder atomically: into a hidden sibling first, renamed over the target when complete.</summary>
public static class AtomicDirectory
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
}
