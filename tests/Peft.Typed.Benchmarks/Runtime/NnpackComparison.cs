using System.Diagnostics;
using System.Globalization;
using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Benchmarks.Timing;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Unet;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Runtime;

/// <summary>
/// <c>nnpack [--batch N] [--rounds N]</c>: the embedded default UNet's full training step (forward and backward,
/// batch N of its 16×16×4 latents, the pre-training's shape) and its inference forward, with libtorch's NNPACK switched
/// on and off in alternating rounds of one process. TorchRuntime switches NNPACK off; this measures why. libtorch only
/// takes NNPACK for 16 or more images, so batches below 16 measure the same kernels twice.
/// Not BenchmarkDotNet: the switch is libtorch's global state, flipped between rounds.
/// </summary>
internal static class NnpackComparison
{
    public static int Run(string[] args)
    {
        int batch = IntOption(args, "--batch", 32), rounds = IntOption(args, "--rounds", 3);
        if (batch < 1 || rounds < 1)
        {
            Console.Error.WriteLine("error: usage: nnpack [--batch N>=1] [--rounds N>=1]");
            return 2;
        }
        var path = Path.Combine(Fixtures.RepoRoot, "samples", "Peft.Typed.DreamBooth", "DefaultModel", "model", "unet", "config.json");
        manual_seed(0);
        using var unet = new UNet2DConditionModel(ArchitectureDescription.Parse<UNet2DConditionConfig>(File.ReadAllText(path), path));
        unet.train();
        long size = unet.Config.SampleSize?.Values[0] ?? 64;
        using var sample = randn(batch, unet.Config.InChannels, size, size);
        using var timesteps = randint(0, 1000, batch);
        using var context = randn(batch, 77, unet.Config.CrossAttentionDim.ForMidBlock());
        var input = new UNet2DConditionInput(sample, timesteps, context);
        Console.WriteLine($"NNPACK available: {TorchRuntime.NnpackAvailable}; embedded UNet, batch {batch} of {unet.Config.InChannels}×{size}×{size}; medians of 3 after 1 warm-up");
        for (int round = 0; round < rounds; round++)
        {
            foreach (bool nnpack in new[] { false, true })
            {
                TorchRuntime.NnpackEnabled = nnpack;
                double train = Timings.MedianMilliseconds(() =>
                {
                    using var scope = NewDisposeScope();
                    var output = unet.call(input);
                    output.mul(output).mean().backward();
                    foreach (var p in unet.parameters()) p.grad = null;
                }, runs: 3);
                double infer = Timings.MedianMilliseconds(() =>
                {
                    using var scope = NewDisposeScope();
                    using var noGrad = no_grad();
                    unet.call(input);
                }, runs: 3);
                Console.WriteLine($"round {round + 1}, NNPACK {(nnpack ? "on " : "off")}: training step {train:F0} ms, inference forward {infer:F0} ms");
            }
        }
        TorchRuntime.NnpackEnabled = false;
        return 0;
    }

    private static int IntOption(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i < 0 ? fallback : i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int value) ? value : -1;
    }
}
