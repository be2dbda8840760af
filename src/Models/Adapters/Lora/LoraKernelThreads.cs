using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Lora;

/// <summary>How many threads a LoRA kernel runs on: libtorch's count, or the calling thread alone for small work.</summary>
internal static class LoraKernelThreads
{
    /// <summary>
    /// Below this many multiply-adds (a few hundred microseconds on one core) a kernel runs on the calling thread:
    /// inside a training step the second worker of a <c>Parallel.For</c> started 180–194 µs after the call (medians of
    /// 40; docs/perf.md, "Kernels for the LoRA products"), longer than such work takes it to finish alone.
    /// </summary>
    public const long ParallelWork = 1L << 21;

    public static int For(long multiplyAdds) => multiplyAdds < ParallelWork ? 1 : get_num_threads();
}
