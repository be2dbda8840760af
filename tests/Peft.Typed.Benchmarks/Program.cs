using BenchmarkDotNet.Running;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

// PEFT_TYPED_THREADS=n sets libtorch's intra-op threads before any model code runs (the oneDNN self-check of
// Peft.Typed.Models runs with that setting too); unset keeps libtorch's default (one per core).
if (int.TryParse(Environment.GetEnvironmentVariable("PEFT_TYPED_THREADS"), out var threads)) set_num_threads(threads);
Console.WriteLine($"libtorch threads: {get_num_threads()}; oneDNN convolutions disabled by the self-check: {TorchRuntime.OneDnnConvolutionsDisabled}");

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
