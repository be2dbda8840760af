using Peft.Typed.Models.IO;

namespace Peft.Typed.Models.Tests.IO;

/// <summary>Atomic files and folders: a failed write keeps what was there and leaves no temporary entries.</summary>
public sealed class AtomicWriteTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_file_write_replaces_the_previous_file()
    {
        var path = Path.Combine(_dir, "a.bin");
        File.WriteAllBytes(path, [1, 2, 3]);

        AtomicFile.WriteAllBytes(path, [4, 5]);

        Assert.Equal([4, 5], File.ReadAllBytes(path));
        Assert.Equal(["a.bin"], Names());
    }

    [Fact]
    public void A_failed_file_write_leaves_the_previous_file_and_no_temporary_file()
    {
        var path = Path.Combine(_dir, "a.bin");
        File.WriteAllBytes(path, [1, 2, 3]);

        var error = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write([9, 9, 9, 9]);
            throw new InvalidOperationException("disk full");
        }));

        Assert.Equal("disk full", error.Message);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal(["a.bin"], Names());
    }

    [Fact]
    public void A_failed_folder_write_leaves_the_previous_folder_and_no_temporary_folder()
    {
        var path = Path.Combine(_dir, "unet");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "old.txt"), "old");

        Assert.Throws<IOException>(() => AtomicDirectory.Write(path, temporary =>
        {
            File.WriteAllText(Path.Combine(temporary, "new.txt"), "new");
            throw new IOException("interrupted");
        }));

        Assert.Equal(["old.txt"], Directory.GetFiles(path).Select(Path.GetFileName));
        Assert.Equal(["unet"], Names());
    }

    [Fact]
    public void A_folder_write_replaces_the_previous_folder()
    {
        var path = Path.Combine(_dir, "unet");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "old.txt"), "old");

        AtomicDirectory.Write(path, temporary => File.WriteAllText(Path.Combine(temporary, "new.txt"), "new"));

        Assert.Equal(["new.txt"], Directory.GetFiles(path).Select(Path.GetFileName));
        Assert.Equal(["unet"], Names());
    }

    [Fact]
    public void Leftover_temporary_files_and_folders_of_interrupted_writes_are_removed()
    {
        var guid = Guid.NewGuid().ToString("N");
        string[] leftoverFiles = [$".loss.png.{guid}.tmp", $".adapter_model.safetensors.{guid}.tmp"];
        string[] leftoverFolders = [$".checkpoint-4.{guid}.tmp", $"unet.{guid}.old"];
        string[] kept = ["loss.png", "loss.png.tmp", "checkpoint-4"];
        foreach (var name in leftoverFiles.Append(kept[0]).Append(kept[1])) File.WriteAllText(Path.Combine(_dir, name), "x");
        foreach (var name in leftoverFolders.Append(kept[2])) Directory.CreateDirectory(Path.Combine(_dir, name));

        var removed = AtomicDirectory.RemoveLeftovers(_dir);

        Assert.Equal(leftoverFiles.Concat(leftoverFolders).Order(StringComparer.Ordinal), removed.Order(StringComparer.Ordinal));
        Assert.Equal(kept.Order(StringComparer.Ordinal), Names());
    }

    private IEnumerable<string> Names() => Directory.EnumerateFileSystemEntries(_dir).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal);
}
