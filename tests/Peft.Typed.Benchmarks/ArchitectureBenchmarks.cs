using BenchmarkDotNet.Attributes;
using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Tree;
using Peft.Typed.Testing;

namespace Peft.Typed.Benchmarks;

/// <summary>
/// config.json to module tree, the work the source generator repeats on every edit of an AdditionalFile:
/// parse + validate, and parse + validate + build (SDXL: 1930 modules, 1680 parameters).
/// </summary>
[MemoryDiagnoser]
public class ArchitectureBenchmarks
{
    private string _json = "";

    [Params("sd15-unet", "sdxl-base-unet")]
    public string Model { get; set; } = "";

    [GlobalSetup]
    public void Setup() => _json = File.ReadAllText(Fixtures.PathOf("architectures", Model, "config.json"));

    [Benchmark]
    public ArchitectureDescription Parse() => ArchitectureDescription.Parse(_json, "config.json");

    [Benchmark]
    public ModuleTree ParseAndBuildTree() => ArchitectureDescription.Parse(_json, "config.json").BuildTree();
}
