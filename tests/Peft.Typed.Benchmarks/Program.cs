using BenchmarkDotNet.Running;
using Peft.Typed.Benchmarks.Runtime;
using Peft.Typed.Benchmarks.Training;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

// TorchRuntime first: it limits libtorch's OpenMP spinning, which only counts before libtorch is loaded.
string waiting = TorchRuntime.OpenMpWaitSetting ?? $"OMP_WAIT_POLICY={Environment.GetEnvironmentVariable("OMP_WAIT_POLICY")}, GOMP_SPINCOUNT={Environment.GetEnvironmentVariable("GOMP_SPINCOUNT")} (from the environment)";
// PEFT_TYPED_THREADS=n sets libtorch's intra-op threads before any model code runs; unset keeps libtorch's default (one per core).
if (int.TryParse(Environment.GetEnvironmentVariable("PEFT_TYPED_THREADS"), out var threads)) TorchRuntime.SetThreads(threads);
Console.WriteLine($"libtorch threads: {get_num_threads()}; OpenMP waiting: {waiting}; CPU kernels: {TorchRuntime.CpuCapabilitySetting ?? $"ATEN_CPU_CAPABILITY={Environment.GetEnvironmentVariable("ATEN_CPU_CAPABILITY")} (from the environment)"}; oneDNN convolutions disabled: {TorchRuntime.OneDnnConvolutionsDisabled}");

if (args.FirstOrDefault() == "training") return TrainingStepProfile.Run(args[1..]);
if (args.FirstOrDefault() == "contention") return ContentionBenchmark.Run(args[1..]);
if (args.FirstOrDefault() == "nnpack") return NnpackComparison.Run(args[1..]);
if (args.FirstOrDefault() == "scalar-race") return ScalarLifetimeProbe.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
