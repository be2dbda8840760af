namespace Peft.Typed.Testing;

/// <summary>Locates the repository and the shared reference fixtures (../shared/fixtures beside the clone).</summary>
public static class Fixtures
{
    private static readonly Lazy<string> Root = new(FindRepoRoot);

    /// <summary>The repository root: the first folder above the test binaries that holds Peft.Typed.sln.</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>The fixtures folder: $PEFT_TYPED_FIXTURES, else ../shared/fixtures beside the repository.</summary>
    public static string Directory
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("PEFT_TYPED_FIXTURES");
            var dir = string.IsNullOrEmpty(fromEnv) ? Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "fixtures")) : fromEnv;
            if (!System.IO.Directory.Exists(dir))
                throw new DirectoryNotFoundException($"Reference fixtures not found at '{dir}'. Clone the repository beside shared/ or set PEFT_TYPED_FIXTURES.");
            return dir;
        }
    }

    /// <summary>A path inside the fixtures folder, e.g. <c>Fixtures.PathOf("unet-tiny", "config.json")</c>.</summary>
    public static string PathOf(params string[] parts) => System.IO.Path.Combine([Directory, .. parts]);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Peft.Typed.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException($"No Peft.Typed.sln above '{AppContext.BaseDirectory}'.");
    }
}
