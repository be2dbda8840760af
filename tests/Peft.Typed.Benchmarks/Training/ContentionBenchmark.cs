using System.Diagnostics;
using System.Globalization;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Benchmarks.Timing;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Unet;
using Peft.Typed.Training;
using Peft.Typed.Training.Optimization;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Training;

/// <summary>
/// <c>contention</c> mode of the benchmark executable: the training step of <see cref="TrainingStepProfile"/> (LoRA r=8
/// on the comprehensive targets, batch 1 of 64×64 latents) on a quiet machine and beside busy processes
/// (<c>sh -c 'while :; do :; done'</c>, two by default), in alternating rounds within one process so that drifts of a
/// shared machine hit both conditions alike. Each round reports its median step, the load average when it started and
/// the share of the machine's CPU time stolen by the hypervisor while it ran (/proc/stat). libtorch's threads follow the
/// load between steps as the trainer's do by default (<see cref="LoadAdaptiveThreads"/>) unless
/// <c>PEFT_TYPED_THREADS</c> fixes them; its OpenMP waiting is whatever the process was started with
/// (<c>OMP_WAIT_POLICY</c> or <c>GOMP_SPINCOUNT</c>, e.g. 300000 for libgomp's default; unset:
/// <c>TorchRuntime.OpenMpSpinCount</c>), so variants are compared across processes. Following the load, it also
/// reports the steps by thread count and the steady state: loaded steps on the count the chooser settled on against
/// quiet steps on the most threads.
/// </summary>
public static class ContentionBenchmark
{
    public static int Run(string[] args)
    {
        string model = Option(args, "--model") ?? "tiny";
        int steps = IntOption(args, "--steps", 10);
        int rounds = IntOption(args, "--rounds", 2);
        int spinners = IntOption(args, "--spinners", 2);
        if (model is not ("tiny" or "mid") || steps < 1 || rounds < 1 || spinners < 1)
        {
            Console.Error.WriteLine("error: usage: contention [--model tiny|mid] [--steps N>=1] [--rounds N>=1] [--spinners N>=1]");
            return 2;
        }

        TorchRuntime.RetainFreedMemory();
        var adaptive = Environment.GetEnvironmentVariable("PEFT_TYPED_THREADS") is null ? LoadAdaptiveThreads.ForThisProcess() : null;
        // As the trainer does: a set count also keeps MKL from choosing fewer threads per product.
        if (adaptive is not null) TorchRuntime.SetThreads(adaptive.Threads);
        using var unet = new UNet2DConditionModel(TrainingStepProfile.Config(model));
        PeftModel.Create(unet, new LoraConfig { R = 8, LoraAlpha = 8, TargetModules = TargetModules.FromNames(SeedTargetLists.UnetComprehensive) });
        unet.train();
        var trainable = unet.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList();
        using var optimizer = new AdamW(trainable);
        using var batch = TrainingStepProfile.Batch.Create(unet.Config.CrossAttentionDim.ForMidBlock());
        TrainingStepProfile.Step(unet, optimizer, batch, null);

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"## contention: {model} training step, {steps} steps per round, {rounds} rounds of each condition, {spinners} busy processes when loaded"));
        Console.WriteLine(string.Create(inv, $"threads: {(adaptive is null ? get_num_threads() : "following the load")}; OpenMP waiting: {TorchRuntime.OpenMpWaitSetting ?? $"OMP_WAIT_POLICY={Environment.GetEnvironmentVariable("OMP_WAIT_POLICY")}, GOMP_SPINCOUNT={Environment.GetEnvironmentVariable("GOMP_SPINCOUNT")} (from the environment)"}; cores: {Environment.ProcessorCount}"));
        Console.WriteLine();
        Console.WriteLine("| round | condition | median step | load average at start | steal during round | process CPU / wall | threads at the steps |");
        Console.WriteLine("| ---: | --- | ---: | ---: | ---: | ---: | --- |");
        var byThreads = new Dictionary<(bool Busy, int Threads), List<double>>();
        int loadedFinalThreads = 0;
        for (int round = 0; round < rounds; round++)
        {
            foreach (bool busy in new[] { false, true })
            {
                var spinning = busy ? Enumerable.Range(0, spinners).Select(_ => Process.Start("sh", ["-c", "while :; do :; done"])).ToList() : [];
                try
                {
                    string load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
                    var (stealBefore, totalBefore) = CpuTicks();
                    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                    long t0 = Stopwatch.GetTimestamp();
                    var times = new List<double>();
                    var threads = new List<int>();
                    for (int step = 0; step < steps; step++)
                    {
                        threads.Add(get_num_threads());
                        times.Add(TrainingStepProfile.Step(unet, optimizer, batch, null).Total);
                        adaptive?.Observe();
                    }
                    double wall = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                    double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
                    var (stealAfter, totalAfter) = CpuTicks();
                    double median = Timings.Median(times);
                    for (int i = 0; i < times.Count; i++)
                    {
                        if (!byThreads.TryGetValue((busy, threads[i]), out var list)) byThreads[(busy, threads[i])] = list = [];
                        list.Add(times[i]);
                    }
                    if (busy) loadedFinalThreads = threads[^1];
                    Console.WriteLine(string.Create(inv,
                        $"| {round + 1} | {(busy ? "loaded" : "quiet")} | {median * 1000:F1} ms | {load} | {(stealAfter - stealBefore) / (double)(totalAfter - totalBefore):P1} | {cpu / wall:F2} | {string.Join(" ", threads)} |"));
                }
                finally
                {
                    foreach (var process in spinning)
                    {
                        process.Kill();
                        process.WaitForExit();
                        process.Dispose();
                    }
                }
            }
        }
        double Median(bool busy) => Timings.Median(byThreads.Where(e => e.Key.Busy == busy).SelectMany(e => e.Value));
        double q = Median(false), l = Median(true);
        Console.WriteLine();
        Console.WriteLine(string.Create(inv, $"quiet {q * 1000:F1} ms, loaded {l * 1000:F1} ms per step (medians over all rounds): loaded / quiet = {l / q:F2}"));
        if (adaptive is not null)
        {
            // A round's first steps still run on the count the previous condition chose (the chooser needs two
            // windows), so the round medians mix both counts; by count, the steady states show.
            foreach (var ((busy, count), times) in byThreads.OrderBy(e => e.Key.Busy).ThenByDescending(e => e.Key.Threads))
                Console.WriteLine(string.Create(inv, $"{(busy ? "loaded" : "quiet")} on {count} thread{(count == 1 ? "" : "s")}: {Timings.Median(times) * 1000:F1} ms ({times.Count} steps)"));
            int quietThreads = byThreads.Keys.Where(k => !k.Busy).Max(k => k.Threads);
            double steadyQuiet = Timings.Median(byThreads[(false, quietThreads)]), steadyLoaded = Timings.Median(byThreads[(true, loadedFinalThreads)]);
            Console.WriteLine(string.Create(inv,
                $"steady state: loaded on {loadedFinalThreads} (the last loaded round's count) / quiet on {quietThreads} = {steadyLoaded / steadyQuiet:F2}"));
        }
        return 0;
    }

    /// <summary>Steal and total ticks of all CPUs from the first line of /proc/stat.</summary>
    private static (long Steal, long Total) CpuTicks()
    {
        // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"; guest time is already in user.
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..9].Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        return (fields[7], fields.Sum());
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int IntOption(string[] args, string name, int fallback) =>
        Option(args, name) is { } text ? int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) ? value : -1 : fallback;
}
