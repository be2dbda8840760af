using System.Diagnostics;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Runtime;

/// <summary>
/// <c>scalar-race [seconds]</c>: adds two tensors in a loop while another thread forces garbage collections, first with
/// TorchSharp's <c>a + b</c> (whose alpha of 1 is a Scalar nothing keeps alive), then with <c>TensorArithmetic.Add</c>,
/// and counts the additions that failed. A failure is libtorch reading a Scalar the finalizer already freed.
/// </summary>
public static class ScalarLifetimeProbe
{
    public static int Run(string[] args)
    {
        var seconds = args.Length > 0 && double.TryParse(args[0], out var s) ? s : 10;
        using var a = ones(64, 64);
        using var b = ones(64, 64);
#pragma warning disable RS0030 // The banned operator is what this probe measures.
        Measure("TorchSharp a + b", () => a + b, seconds);
#pragma warning restore RS0030
        Measure("TensorArithmetic.Add", () => a.Add(b), seconds);
        return 0;
    }

    private static void Measure(string name, Func<Tensor> add, double seconds)
    {
        var stop = false;
        var collector = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });
        collector.Start();
        long additions = 0, failures = 0;
        string? firstError = null;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            try
            {
                using var sum = add();
                additions++;
            }
            catch (Exception e)
            {
                failures++;
                firstError ??= e.Message.Split('\n')[0];
            }
        }
        Volatile.Write(ref stop, true);
        collector.Join();
        Console.WriteLine($"{name}: {additions:N0} additions, {failures} failed in {clock.Elapsed.TotalSeconds:F1} s{(firstError is null ? "" : $" (first: {firstError})")}");
    }
}
