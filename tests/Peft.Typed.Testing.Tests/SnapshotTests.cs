using Peft.Typed.Testing;

namespace Peft.Typed.Testing.Tests;

public sealed class SnapshotTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "peft-typed-snapshot-" + Guid.NewGuid().ToString("N"));
    private readonly string? _savedUpdate = Environment.GetEnvironmentVariable(Snapshot.UpdateVariable);
    private readonly string? _savedCi = Environment.GetEnvironmentVariable("CI");

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(Snapshot.UpdateVariable, _savedUpdate);
        Environment.SetEnvironmentVariable("CI", _savedCi);
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private string Verified => Path.Combine(_folder, "case.verified.txt");
    private string Received => Path.Combine(_folder, "case.received.txt");

    [Fact]
    public void Matching_output_passes_and_removes_a_stale_received_file()
    {
        Directory.CreateDirectory(_folder);
        File.WriteAllText(Verified, "a\nb\n");
        File.WriteAllText(Received, "old");
        Snapshot.Match("a\r\nb", _folder, "case", "txt");
        Assert.False(File.Exists(Received));
    }

    [Fact]
    public void Mismatch_writes_received_file_and_reports_a_line_diff()
    {
        Environment.SetEnvironmentVariable(Snapshot.UpdateVariable, null);
        Directory.CreateDirectory(_folder);
        File.WriteAllText(Verified, "one\ntwo\nthree\n");
        var ex = Assert.Throws<SnapshotMismatchException>(() => Snapshot.Match("one\nTWO\nthree\n", _folder, "case", "txt"));
        Assert.Equal("one\nTWO\nthree\n", File.ReadAllText(Received));
        Assert.Contains("-     2 | two", ex.Message);
        Assert.Contains("+     2 | TWO", ex.Message);
        Assert.Equal("one\ntwo\nthree\n", File.ReadAllText(Verified));
    }

    [Fact]
    public void Missing_snapshot_fails_and_writes_received_file()
    {
        Environment.SetEnvironmentVariable(Snapshot.UpdateVariable, null);
        var ex = Assert.Throws<SnapshotMismatchException>(() => Snapshot.Match("new", _folder, "case", "txt"));
        Assert.Contains("No approved snapshot", ex.Message);
        Assert.Equal("new\n", File.ReadAllText(Received));
        Assert.False(File.Exists(Verified));
    }

    [Fact]
    public void Update_variable_accepts_output_outside_CI()
    {
        Environment.SetEnvironmentVariable(Snapshot.UpdateVariable, "1");
        Environment.SetEnvironmentVariable("CI", null);
        Snapshot.Match("accepted", _folder, "case", "txt");
        Assert.Equal("accepted\n", File.ReadAllText(Verified));
        Assert.False(File.Exists(Received));
    }

    [Fact]
    public void Update_variable_is_ignored_on_CI()
    {
        Environment.SetEnvironmentVariable(Snapshot.UpdateVariable, "1");
        Environment.SetEnvironmentVariable("CI", "true");
        Assert.Throws<SnapshotMismatchException>(() => Snapshot.Match("x", _folder, "case", "txt"));
        Assert.False(File.Exists(Verified));
    }

    [Fact]
    public void Diff_marks_insertions_and_deletions_with_line_numbers()
    {
        var diff = Snapshot.Diff("a\nb\nc", "a\nc\nd");
        Assert.Equal("      1 | a\n-     2 | b\n      3 | c\n+     3 | d", diff);
    }
}
