using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters;

/// <summary>
/// PEFT's per-adapter <c>nn.ParameterDict</c>: one parameter per adapter name, so the state-dict keys read
/// <c>hada_w1_a.default</c> (no <c>.weight</c> suffix).
/// </summary>
internal sealed class AdapterParameterDict : nn.Module
{
    public AdapterParameterDict() : base("ParameterDict")
    {
    }

    public Parameter this[string adapterName] => _internal_params.TryGetValue(adapterName, out var parameter)
        ? parameter
        : throw new KeyNotFoundException($"No adapter '{adapterName}' here; adapters: {string.Join(", ", _internal_params.Keys)}.");

    public bool Contains(string adapterName) => _internal_params.ContainsKey(adapterName);

    public IReadOnlyCollection<string> Keys => _internal_params.Keys.ToList();

    public void Add(string adapterName, Parameter parameter) => register_parameter(adapterName, parameter);

    /// <summary>Unregisters and disposes the adapter's parameter.</summary>
    public void Remove(string adapterName)
    {
        if (!_internal_params.TryGetValue(adapterName, out var parameter)) return;
        _internal_params.Remove(adapterName);
        parameter.Dispose();
    }
}
