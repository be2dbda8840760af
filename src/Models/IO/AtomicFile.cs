namespace Peft.Typed.Models.IO;

/// <summary>
/// Writes a file atomically: into a hidden temporary sibling (<c>.name.&lt;guid&gt;.tmp</c>), flushed to disk, then
/// renamed over the target. A failed or interrupted write leaves the previous file as it was; the temporary file is
/// deleted on failure, and one a crash left behind is found by <see cref="AtomicDirectory.RemoveLeftovers"/>.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, which gets the temporary file's stream.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temporary = AtomicDirectory.TemporaryPath(full);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, stream => stream.Write(copy));
    }
}
