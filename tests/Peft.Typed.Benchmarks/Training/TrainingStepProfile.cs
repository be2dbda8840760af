using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Benchmarks.Flops;
using Peft.Typed.Benchmarks.Models;
using Peft.Typed.Benchmarks.Timing;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Tokenizers;
using Peft.Typed.Models.Unet;
using Peft.Typed.Models.Vae;
using Peft.Typed.Testing;
using Peft.Typed.Training;
using Peft.Typed.Training.Optimization;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Training;

/// <summary>
/// <c>training</c> mode of the benchmark executable: the DreamBooth step (UNet forward on noisy latents, MSE, backward,
/// gradient clipping, AdamW, zero-grad) of a UNet with LoRA r=8 on the seed script's comprehensive targets, on batch 1
/// of 64×64 latents, in a fresh process so that its peak resident memory belongs to this configuration alone. It
/// reports steps/s, peak memory, the 2048² matmul ceiling and the step's FLOPs measured in the same process, a
/// profile by phase and by UNet block, and the same step without adapters (input gradients only), whose difference
/// estimates the adapter path (it back-propagates to the latents, so layers before the first adapted one cost it extra). BenchmarkDotNet is not used here because it cannot report a process's peak memory.
/// </summary>
public static class TrainingStepProfile
{
    private const int Latent = 64;

    public static int Run(string[] args)
    {
        string model = Option(args, "--model") ?? "tiny";
        if (!int.TryParse(Option(args, "--steps") ?? "5", NumberStyles.None, CultureInfo.InvariantCulture, out int steps) || steps < 1)
        {
            Console.Error.WriteLine($"error: --steps {Option(args, "--steps")}: must be a whole number >= 1");
            return 2;
        }
        bool checkpointing = args.Contains("--gradient-checkpointing");
        // --glibc-default: leave glibc's allocator as it is, to measure what the trainer's RetainFreedMemory saves.
        bool retained = !args.Contains("--glibc-default") && TorchRuntime.RetainFreedMemory();
        // --probes: time the machine itself between steps (MachineProbe).
        using var probe = args.Contains("--probes") ? new MachineProbe() : null;
        // --targets a,b,c: other LoRA target names than the seed script's comprehensive list.
        var targets = Option(args, "--targets")?.Split(',') ?? SeedTargetLists.UnetComprehensive;
        if (model is not ("tiny" or "mid" or "sd15"))
        {
            Console.Error.WriteLine($"error: --model {model}: must be tiny, mid or sd15");
            return 2;
        }

        long rssAtStart = ProcessMemory.ResidentBytes();
        double ceiling = MatmulCeiling(CeilingWarmUp);
        using var unet = new UNet2DConditionModel(Config(model));
        var peft = PeftModel.Create(unet, new LoraConfig { R = 8, LoraAlpha = 8, TargetModules = TargetModules.FromNames(targets) });
        unet.GradientCheckpointing = checkpointing;
        unet.train();
        var trainable = unet.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList();
        using var optimizer = new AdamW(trainable);
        using var batch = Batch.Create(unet.Config.CrossAttentionDim.ForMidBlock());

        long adapterParameters = trainable.Sum(p => p.parameter.numel());
        long baseParameters = unet.parameters().Sum(p => p.numel()) - adapterParameters;

        // The step without the adapter path: frozen UNet, gradients only with respect to the input latents, which is
        // the backward work an adapter run needs anyway from its first adapted layer on. The two kinds of step run in
        // pairs, back to back, so that drifts of a shared machine hit both alike; which one goes first alternates from
        // pair to pair, so that neither always runs in the other's wake.
        var timed = new List<StepTimes>();
        var withoutAdapters = new List<StepTimes>();
        StepTimes PlainStep()
        {
            using (peft.DisableAdapter()) return InputGradientStep(unet, batch, null);
        }
        for (int i = -1; i < steps; i++)
        {
            StepTimes step, plain;
            if (i % 2 == 0)
            {
                step = Step(unet, optimizer, batch, null);
                plain = PlainStep();
            }
            else
            {
                plain = PlainStep();
                step = Step(unet, optimizer, batch, null);
            }
            if (i < 0) continue;
            probe?.Run();
            timed.Add(step);
            withoutAdapters.Add(plain);
        }
        long peakRss = ProcessMemory.PeakResidentBytes();
        // The same run's ceiling: measured again once the steps have run (they have just kept the machine loaded, so
        // without a warm-up), and the higher of the two kept.
        ceiling = Math.Max(ceiling, MatmulCeiling(TimeSpan.Zero));
        // Counted after the peak is read: the counting forward keeps its own graph.
        var (flopsByKind, backwardByKind, adapterForwardFlops) = CountFlops(unet, peft, batch);
        var profile = new ForwardProfile(unet);
        var profiled = Enumerable.Range(0, 2).Select(_ => Step(unet, optimizer, batch, profile)).ToList();
        profile.Dispose();
        var plainProfile = new ForwardProfile(unet);
        using (peft.DisableAdapter())
            for (int i = 0; i < profiled.Count; i++) InputGradientStep(unet, batch, plainProfile);
        plainProfile.Dispose();

        var data = DataCost();
        Report(model, targets, checkpointing, retained, steps, rssAtStart, peakRss, ceiling, flopsByKind, backwardByKind, adapterForwardFlops, baseParameters, adapterParameters, timed, profiled, profile, plainProfile, withoutAdapters, data, probe);
        return 0;
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>
    /// tiny: the fixture unet-tiny (32/64 channels); mid: SD 1.5's layout at 128/256/512 channels; sd15: SD 1.5's UNet
    /// config (320/640/1280/1280, 860 M parameters) from the architecture fixtures, with random weights.
    /// </summary>
    internal static UNet2DConditionConfig Config(string model)
    {
        var path = model == "sd15" ? Fixtures.PathOf("architectures", "sd15-unet", "config.json") : Fixtures.PathOf("unet-tiny", "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        if (model == "mid")
        {
            json["block_out_channels"] = new JsonArray(128, 256, 512);
            json["down_block_types"] = new JsonArray("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D");
            json["up_block_types"] = new JsonArray("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D");
            json["cross_attention_dim"] = 768;
            json["attention_head_dim"] = 8;
        }
        return ArchitectureDescription.Parse<UNet2DConditionConfig>(json.ToJsonString(), path + $" ({model})");
    }

    internal sealed record StepTimes(double Forward, double Backward, double Optimizer)
    {
        public double Total => Forward + Backward + Optimizer;
    }

    internal static StepTimes Step(UNet2DConditionModel unet, AdamW optimizer, Batch batch, ForwardProfile? profile)
    {
        using var scope = NewDisposeScope();
        long t0 = Stopwatch.GetTimestamp();
        profile?.BeginForward();
        var loss = nn.functional.mse_loss(unet.call(batch.Input()), batch.Noise);
        profile?.EndForward();
        long t1 = Stopwatch.GetTimestamp();
        loss.backward();
        long t2 = Stopwatch.GetTimestamp();
        nn.utils.clip_grad_norm_(optimizer.Parameters, 1.0);
        optimizer.Step(1e-4);
        optimizer.ZeroGrad();
        long t3 = Stopwatch.GetTimestamp();
        return new StepTimes(Seconds(t0, t1), Seconds(t1, t2), Seconds(t2, t3));
    }

    /// <summary>Each pair's step with adapters minus its step without (the i-th of each list form pair i).</summary>
    public static IReadOnlyList<double> PairedDifferences(IReadOnlyList<double> withAdapters, IReadOnlyList<double> withoutAdapters)
    {
        if (withAdapters.Count != withoutAdapters.Count)
            throw new ArgumentException($"{withAdapters.Count} steps with adapters but {withoutAdapters.Count} without: the steps come in pairs.");
        return withAdapters.Zip(withoutAdapters, (a, p) => a - p).ToList();
    }

    private static StepTimes InputGradientStep(UNet2DConditionModel unet, Batch batch, ForwardProfile? profile)
    {
        using var scope = NewDisposeScope();
        var latents = batch.Latents.detach().requires_grad_();
        long t0 = Stopwatch.GetTimestamp();
        profile?.BeginForward();
        var loss = nn.functional.mse_loss(unet.call(new UNet2DConditionInput(latents, batch.Timestep, batch.Context)), batch.Noise);
        profile?.EndForward();
        long t1 = Stopwatch.GetTimestamp();
        loss.backward();
        long t2 = Stopwatch.GetTimestamp();
        return new StepTimes(Seconds(t0, t1), Seconds(t1, t2), 0);
    }

    private static double Seconds(long from, long to) => (to - from) / (double)Stopwatch.Frequency;

    /// <summary>
    /// FLOPs of one step's products, counted in a single forward with gradients on (as the step runs it): the base
    /// layers' forward by kind and their backward (<see cref="FlopCounter"/>: the products whose inputs need
    /// gradients), and the LoRA branches' forward from the shapes each adapter layer gets (lora_A multiplies every
    /// output row, token or pixel, by in·k·k inputs into r, lora_B r into out).
    /// </summary>
    private static (IReadOnlyDictionary<string, double> Forward, IReadOnlyDictionary<string, double> Backward, double Adapters) CountFlops(UNet2DConditionModel unet, PeftModel peft, Batch batch)
    {
        double adapters = 0;
        var hooks = peft.AdapterLayers().Select(layer => layer.register_forward_hook((_, _, output) =>
        {
            var g = layer.Geometry;
            long rank = layer.Rank(layer.AdapterNames[0]), kernel = g.IsConv ? g.KernelSize[0] * g.KernelSize[1] : 1;
            long rows = output.numel() / g.OutFeatures;
            adapters += FlopFormulas.Linear(rows, g.InFeatures * kernel, rank) + FlopFormulas.Linear(rows, rank, g.OutFeatures);
            return output;
        })).ToList();
        try
        {
            using var scope = NewDisposeScope();
            var counter = FlopCounter.Count(unet, unet.Tree, () => unet.call(batch.Input()));
            return (counter.ByKind, counter.BackwardByKind, adapters);
        }
        finally
        {
            foreach (var hook in hooks) hook.remove();
        }
    }

    /// <summary>
    /// GFLOP/s of a 2048×2048 float32 matmul: the best of 10 after <paramref name="warmUp"/> of the same product. On
    /// some VMs the product runs 20–25 % slower during the first second of load (docs/perf.md "The ceiling's warm-up"),
    /// so from a quiet start one warm-up call under-read the ceiling and overstated the step's fraction of it.
    /// </summary>
    private static double MatmulCeiling(TimeSpan warmUp)
    {
        using var scope = NewDisposeScope();
        var a = randn(ModelWorkloads.MatrixSize, ModelWorkloads.MatrixSize);
        var b = randn(ModelWorkloads.MatrixSize, ModelWorkloads.MatrixSize);
        long start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start) < warmUp) Timings.MatmulGflops(a, b);
        return Enumerable.Range(0, 10).Max(_ => Timings.MatmulGflops(a, b));
    }

    private static readonly TimeSpan CeilingWarmUp = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The data side of one trainer step on the embedded tiny pipeline at 128×128 pixels: VAE encode of
    /// one image and the text encoder on one prompt, each the median of 5 calls.
    /// </summary>
    private static (double Vae, double Text) DataCost()
    {
        var folder = Path.Combine(Fixtures.RepoRoot, "samples", "Peft.Typed.DreamBooth", "DefaultModel", "model");
        using var vae = AutoencoderKL.FromPretrained(Path.Combine(folder, "vae"));
        using var text = CLIPTextModel.FromPretrained(Path.Combine(folder, "text_encoder"));
        var tokenizer = ClipTokenizer.FromFolder(Path.Combine(folder, "tokenizer"));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var image = rand(1, 3, 2 * Latent, 2 * Latent).Mul(2).Sub(1);
        var ids = tensor(tokenizer.EncodeForModel("a photo of sks toy").Ids.Select(i => (long)i).ToArray(), [1, ClipTokenizer.ModelMaxLength]);
        return (Timings.MedianMilliseconds(() => vae.Encode(image).Sample(), 5) / 1000, Timings.MedianMilliseconds(() => text.call(ids), 5) / 1000);
    }

    private static void Report(string model, IReadOnlyList<string> targets, bool checkpointing, bool retained, int steps, long rssAtStart, long peakRss, double ceiling,
        IReadOnlyDictionary<string, double> flopsByKind, IReadOnlyDictionary<string, double> backwardByKind, double adapterForwardFlops, long baseParameters, long adapterParameters, List<StepTimes> timed,
        List<StepTimes> profiled, ForwardProfile profile, ForwardProfile plainProfile, List<StepTimes> withoutAdapters, (double Vae, double Text) data, MachineProbe? probe)
    {
        var inv = CultureInfo.InvariantCulture;
        double forwardFlops = flopsByKind.Values.Sum();
        double step = Timings.Median(timed.Select(t => t.Total));
        double plain = Timings.Median(withoutAdapters.Select(t => t.Total));
        // A slow spell of the machine that outlasts a pair cancels in that pair's difference, not in the two medians'.
        var paired = PairedDifferences(timed.Select(t => t.Total).ToList(), withoutAdapters.Select(t => t.Total).ToList());
        double pairedMedian = Timings.Median(paired);
        // The probes between the steps can still find the machine faster than the ceiling measured around them.
        double? bestRate = probe is null ? null : Math.Max(ceiling, probe.MatmulGflops.Max());
        // The base layers' products, forward and backward; the adapters' own are a few per cent on top and are not counted.
        double backwardFlops = backwardByKind.Values.Sum();
        double stepFlops = forwardFlops + backwardFlops;
        string backwardKinds = string.Join(", ", backwardByKind.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => string.Create(inv, $"{k.Key} {k.Value / 1e9:F2}")));
        string F(double seconds) => (seconds * 1000).ToString("F1", inv) + " ms";
        string P(double part, double whole) => (part / whole).ToString("P1", inv);

        Console.WriteLine(string.Create(inv, $"""
            ## training step: {model} UNet, 1×4×{Latent}×{Latent} latents, 77-token context, LoRA r=8 on {(targets == SeedTargetLists.UnetComprehensive ? "the comprehensive targets" : string.Join(", ", targets))}{(checkpointing ? ", gradient checkpointing" : "")}
            threads: {get_num_threads()}; freed native memory {(retained ? "retained, as the trainer does" : "returned to the kernel (glibc's default)")}; base parameters {baseParameters:N0}, adapter parameters {adapterParameters:N0}; {steps} timed steps of each kind, alternating, after 1 warm-up

            | metric | value |
            | --- | --- |
            | step (median) | {F(step)} = {1 / step:F2} steps/s |
            | forward / backward / optimizer (medians) | {F(Timings.Median(timed.Select(t => t.Forward)))} / {F(Timings.Median(timed.Select(t => t.Backward)))} / {F(Timings.Median(timed.Select(t => t.Optimizer)))} |
            | peak resident memory | {peakRss / 1048576.0:F0} MiB ({(peakRss - rssAtStart) / 1048576.0:F0} MiB above the process at start) |
            | matmul ceiling (2048², best of 10: at the start after 2 s of it, and after the steps) | {ceiling:F1} GFLOP/s |
            | FLOPs per step (forward {forwardFlops / 1e9:F2} + backward {backwardFlops / 1e9:F2} GFLOP: {backwardKinds}; the products whose inputs need gradients) | {stepFlops / 1e9:F2} GFLOP |
            | achieved | {stepFlops / step / 1e9:F1} GFLOP/s = {P(stepFlops / step / 1e9, ceiling)} of the ceiling |
            | same step without adapters (input gradients only) | {F(plain)} → the adapter path costs {F(step - plain)} = {P(step - plain, step)} of the step |
            | the adapter path pair by pair (each pair's step minus its step without adapters: median, and range over {paired.Count} pairs) | {F(pairedMedian)} = {P(pairedMedian, step)} of the step ({F(paired.Min())} to {F(paired.Max())}) |
            | LoRA branches' FLOPs (3 × {adapterForwardFlops / 1e9:F2} GFLOP: forward, input and weight gradients) | {P(3 * adapterForwardFlops, stepFlops + 3 * adapterForwardFlops)} of the step's FLOPs with them |
            | data per example (not in the step above): VAE encode 128² / text encoder | {F(data.Vae)} / {F(data.Text)} |
            {(probe is null ? "" : $"| the machine after each timed pair of steps (--probes) | {probe.Summary()} |")}
            {(bestRate is not { } best ? "" : $"| achieved, of the run's best 2048² rate (ceiling or probes: {best:F1} GFLOP/s) | {P(stepFlops / step / 1e9, best)} |")}

            Forward profile (mean of 2 profiled steps with forward hooks; their forward took {F(profile.ForwardSeconds / profiled.Count)}):

            | module | time | share of forward |
            | --- | --- | --- |
            """));
        double forward = profile.ForwardSeconds / profiled.Count;
        foreach (var (name, seconds) in profile.Modules) Console.WriteLine($"| {name} | {F(seconds / profiled.Count)} | {P(seconds / profiled.Count, forward)} |");
        Console.WriteLine();

        // Where the forward stands against the ceiling, kind by kind: the FLOPs are the base layers' (as in the step's
        // figure above), so with adapters a kind's rate is lowered by its LoRA work.
        Console.WriteLine(string.Create(inv, $"""
            Forward by layer kind (same profiled forwards; without adapters: {profiled.Count} profiled forwards of the step above that has none). GFLOP/s counts the base layers' FLOPs only, so the difference between the two columns is the adapters' forward; "Attention" is the core between the projections (scores, softmax, weighted sum, head reshapes), the rest is normalisations, activations, additions and glue:

            | kind | GFLOP per forward | with adapters: time, GFLOP/s, of the ceiling | without adapters: time, GFLOP/s, of the ceiling |
            | --- | ---: | --- | --- |
            """));
        double plainForward = plainProfile.ForwardSeconds / profiled.Count;
        string Rate(double flops, double seconds) => flops > 0 ? string.Create(inv, $"{F(seconds)}, {flops / seconds / 1e9:F1}, {P(flops / seconds / 1e9, ceiling)}") : F(seconds);
        foreach (var kind in flopsByKind.Keys.Union(profile.LayerKinds.Keys).Order(StringComparer.Ordinal))
        {
            double flops = flopsByKind.GetValueOrDefault(kind);
            Console.WriteLine(string.Create(inv, $"| {kind} | {flops / 1e9:F2} | {Rate(flops, profile.LayerKinds.GetValueOrDefault(kind) / profiled.Count)} | {Rate(flops, plainProfile.LayerKinds.GetValueOrDefault(kind) / profiled.Count)} |"));
        }
        Console.WriteLine($"| rest | 0 | {F(forward - profile.LayerKinds.Values.Sum() / profiled.Count)} | {F(plainForward - plainProfile.LayerKinds.Values.Sum() / profiled.Count)} |");
        Console.WriteLine(string.Create(inv, $"| whole forward | {forwardFlops / 1e9:F2} | {Rate(forwardFlops, forward)} | {Rate(forwardFlops, plainForward)} |"));
        Console.WriteLine();
    }

    /// <summary>One fixed batch: noisy latents, timestep, text context and the noise target.</summary>
    internal sealed class Batch : IDisposable
    {
        public required Tensor Latents { get; init; }
        public required Tensor Timestep { get; init; }
        public required Tensor Context { get; init; }
        public required Tensor Noise { get; init; }

        public static Batch Create(int contextDim)
        {
            using var generator = new Generator(2026);
            return new Batch
            {
                Latents = randn([1, 4, Latent, Latent], generator: generator).DetachFromDisposeScope(),
                Timestep = tensor(new long[] { 500 }).DetachFromDisposeScope(),
                Context = randn([1, ClipTokenizer.ModelMaxLength, contextDim], generator: generator).DetachFromDisposeScope(),
                Noise = randn([1, 4, Latent, Latent], generator: generator).DetachFromDisposeScope(),
            };
        }

        public UNet2DConditionInput Input() => new(Latents, Timestep, Context);

        public void Dispose()
        {
            Latents.Dispose();
            Timestep.Dispose();
            Context.Dispose();
            Noise.Dispose();
        }
    }
}
