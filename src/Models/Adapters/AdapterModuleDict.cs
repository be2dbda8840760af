using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters;

/// <summary>
/// PEFT's per-adapter <c>nn.ModuleDict</c>: one submodule per adapter name, registered under that name so the
/// state-dict keys read <c>lora_A.default.weight</c>.
/// </summary>
internal sealed class AdapterModuleDict<T> : nn.Module where T : nn.Module
{
    private readonly Dictionary<string, T> _modules = new(StringComparer.Ordinal);

    public AdapterModuleDict() : base("ModuleDict")
    {
    }

    public T this[string adapterName] => _modules.TryGetValue(adapterName, out var module)
        ? module
        : throw new KeyNotFoundException($"No adapter '{adapterName}' here; adapters: {string.Join(", ", _modules.Keys)}.");

    public bool Contains(string adapterName) => _modules.ContainsKey(adapterName);

    public IReadOnlyCollection<string> Keys => _modules.Keys;

    public void Add(string adapterName, T module)
    {
        register_module(adapterName, module);
        _modules.Add(adapterName, module);
    }

    /// <summary>Unregisters the adapter's module without disposing it (it lives on elsewhere).</summary>
    public void Detach(string adapterName)
    {
        if (_modules.Remove(adapterName)) _internal_submodules.Remove(adapterName);
    }

    /// <summary>Unregisters and disposes the adapter's module.</summary>
    public void Remove(string adapterName)
    {
        if (!_modules.Remove(adapterName, out var module)) return;
        _internal_submodules.Remove(adapterName);
        module.Dispose();
    }
}
