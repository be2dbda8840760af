using System.Diagnostics;
using System.Reflection;

namespace Peft.Typed.Training.Tests.Trainer;

/// <summary>A sample executable (a built .dll) run as a real child process, with its output collected.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _log = new();
    private readonly List<string> _errors = [];

    public ChildProcess(string dll, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        Assert.True(File.Exists(dll), $"the executable was not built: {dll}");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        start.ArgumentList.Add(dll);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Append(e.Data, error: false);
        _process.ErrorDataReceived += (_, e) => Append(e.Data, error: true);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The path a test assembly's <c>AssemblyMetadata(key, path)</c> gives for a sample executable.</summary>
    public static string Executable(string key) => typeof(ChildProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == key).Value!;

    /// <summary>Runs to the end; returns the exit code with everything printed.</summary>
    public static (int ExitCode, string Log, IReadOnlyList<string> Errors) Run(string dll, IEnumerable<string> arguments, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        using var child = new ChildProcess(dll, arguments, environment);
        int code = child.WaitForExit(timeout);
        return (code, child.Log, child.Errors);
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Standard output and error, interleaved as they arrived.</summary>
    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <summary>The lines of standard error, without libtorch's own warnings (<c>[W…]</c>).</summary>
    public IReadOnlyList<string> Errors { get { lock (_log) return _errors.Where(l => !l.StartsWith("[W", StringComparison.Ordinal)).ToList(); } }

    private void Append(string? line, bool error)
    {
        if (line is null) return;
        lock (_log)
        {
            _log.AppendLine(line);
            if (error) _errors.Add(line);
        }
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the child process did not finish within {timeout}:\n{Log}");
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose() => _process.Dispose();
}
