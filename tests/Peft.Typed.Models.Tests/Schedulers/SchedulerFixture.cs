using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Schedulers;

/// <summary>One folder of ../shared/fixtures/schedulers: its config and reference tensors.</summary>
internal sealed class SchedulerFixture : IDisposable
{
    // Fixture README: max abs diff / max(1, |ref|) <= 1e-5.
    public const double Tolerance = 1e-5;

    private readonly Dictionary<string, Tensor> _tensors;

    public SchedulerFixture(string folder)
    {
        Folder = Fixtures.PathOf("schedulers", folder);
        _tensors = SafetensorsFile.LoadAll(Path.Combine(Folder, "tensors.safetensors"));
        Config = SchedulerConfig.FromFile(Path.Combine(Folder, "scheduler_config.json"));
    }

    public string Folder { get; }

    public SchedulerConfig Config { get; }

    public Tensor this[string name] => _tensors[name];

    public bool Has(string name) => _tensors.ContainsKey(name);

    public DiffusionScheduler CreateScheduler() =>
        Path.GetFileName(Folder) == "ddpm" ? new DDPMScheduler(Config) : new DDIMScheduler(Config);

    /// <summary>Asserts equal shapes and max |actual − expected| / max(1, |expected|) within <see cref="Tolerance"/>.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        using var scope = NewDisposeScope();
        Assert.Equal(expected.shape, actual.shape);
        var error = ((actual.to(ScalarType.Float64) - expected.to(ScalarType.Float64)).abs() / expected.to(ScalarType.Float64).abs().ClampMin(1.0)).max().item<double>();
        Assert.True(error <= Tolerance, $"{what}: relative error {error:E3} > {Tolerance:E0}");
    }

    public void Dispose()
    {
        foreach (var tensor in _tensors.Values) tensor.Dispose();
    }
}
