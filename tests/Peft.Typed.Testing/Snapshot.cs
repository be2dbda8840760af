using System.Runtime.CompilerServices;
using System.Text;

namespace Peft.Typed.Testing;

/// <summary>
/// Approval testing without Verify: <c>&lt;Class&gt;.&lt;Test&gt;[.name].verified.&lt;ext&gt;</c> files are committed
/// under a <c>Snapshots/</c> folder beside the test source. A mismatch writes the matching
/// <c>.received.</c> file and fails with a line diff. Set UPDATE_SNAPSHOTS=1 to accept received output;
/// it is refused on CI (CI=true) so a run can never approve its own output.
/// </summary>
public static class Snapshot
{
    public const string UpdateVariable = "UPDATE_SNAPSHOTS";

    /// <summary>Compares <paramref name="actual"/> with the approved snapshot for the calling test.</summary>
    public static void Match(string actual, string? name = null, string extension = "txt",
        [CallerFilePath] string sourceFile = "", [CallerMemberName] string testName = "")
    {
        var folder = Path.Combine(Path.GetDirectoryName(sourceFile)!, "Snapshots");
        var stem = Path.GetFileNameWithoutExtension(sourceFile) + "." + testName + (name is null ? "" : "." + name);
        Match(actual, folder, stem, extension);
    }

    /// <summary>Compares against <c>folder/stem.verified.extension</c>; the overload tests use to control paths.</summary>
    public static void Match(string actual, string folder, string stem, string extension)
    {
        var verified = Path.Combine(folder, $"{stem}.verified.{extension}");
        var received = Path.Combine(folder, $"{stem}.received.{extension}");
        var normalized = Normalize(actual);
        var expected = File.Exists(verified) ? Normalize(File.ReadAllText(verified)) : null;

        if (expected == normalized)
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }

        Directory.CreateDirectory(folder);
        if (UpdateRequested())
        {
            File.WriteAllText(verified, normalized);
            if (File.Exists(received)) File.Delete(received);
            return;
        }

        File.WriteAllText(received, normalized);
        var message = expected is null
            ? $"No approved snapshot '{verified}'. Review '{received}', then rename it or rerun with {UpdateVariable}=1."
            : $"Snapshot mismatch for '{verified}'. Received output written to '{received}'.\n{Diff(expected, normalized)}\nAccept with {UpdateVariable}=1 after review.";
        throw new SnapshotMismatchException(message);
    }

    /// <summary>True when UPDATE_SNAPSHOTS=1 and not running on CI.</summary>
    public static bool UpdateRequested() =>
        Environment.GetEnvironmentVariable(UpdateVariable) == "1" &&
        !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    internal static string Normalize(string text) => text.Replace("\r\n", "\n").TrimEnd('\n') + "\n";

    /// <summary>A line diff (longest common subsequence) with '-' for expected-only and '+' for received-only lines.</summary>
    public static string Diff(string expected, string actual, int context = 2)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (int i = a.Length - 1; i >= 0; i--)
            for (int j = b.Length - 1; j >= 0; j--)
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);

        var lines = new List<(char Kind, int Line, string Text)>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y]) { lines.Add((' ', x + 1, a[x])); x++; y++; }
            else if (y < b.Length && (x == a.Length || lcs[x, y + 1] >= lcs[x + 1, y])) { lines.Add(('+', y + 1, b[y])); y++; }
            else { lines.Add(('-', x + 1, a[x])); x++; }
        }

        var sb = new StringBuilder();
        int lastPrinted = -1;
        for (int k = 0; k < lines.Count; k++)
        {
            bool near = false;
            for (int d = Math.Max(0, k - context); d <= Math.Min(lines.Count - 1, k + context) && !near; d++) near = lines[d].Kind != ' ';
            if (!near) continue;
            if (lastPrinted >= 0 && k > lastPrinted + 1) sb.Append("  ...\n");
            sb.Append(lines[k].Kind).Append(' ').Append(lines[k].Line.ToString().PadLeft(5)).Append(" | ").Append(lines[k].Text).Append('\n');
            lastPrinted = k;
        }
        return sb.ToString().TrimEnd('\n');
    }
}

/// <summary>Thrown when output differs from its approved snapshot.</summary>
public sealed class SnapshotMismatchException(string message) : Exception(message);
