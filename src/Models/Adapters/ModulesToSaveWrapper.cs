using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters;

/// <summary>
/// PEFT's <c>ModulesToSaveWrapper</c>: keeps the frozen <c>original_module</c> and one trainable copy per adapter in
/// <c>modules_to_save</c>; the active adapter's copy runs the forward. Saved keys are the copy's own keys under the
/// module's name (<c>base_model.model.&lt;module&gt;.weight</c>).
/// </summary>
public sealed class ModulesToSaveWrapper : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> original_module;
    private readonly AdapterModuleDict<nn.Module<Tensor, Tensor>> modules_to_save = new();

    public ModulesToSaveWrapper(nn.Module<Tensor, Tensor> original, string moduleName) : base("ModulesToSaveWrapper")
    {
        ModuleName = moduleName;
        original_module = original;
        RegisterComponents();
    }

    public string ModuleName { get; }

    public nn.Module<Tensor, Tensor> OriginalModule => original_module;

    /// <summary>The adapter whose copy runs, or null (the original runs).</summary>
    public string? ActiveAdapter { get; private set; }

    public bool AdaptersDisabled { get; private set; }

    public IReadOnlyCollection<string> AdapterNames => modules_to_save.Keys;

    /// <summary>The adapter's trained copy.</summary>
    public nn.Module<Tensor, Tensor> CopyOf(string adapterName) => modules_to_save[adapterName];

    public override Tensor forward(Tensor x) =>
        AdaptersDisabled || ActiveAdapter is null || !modules_to_save.Contains(ActiveAdapter)
            ? original_module.call(x)
            : modules_to_save[ActiveAdapter].call(x);

    /// <summary>Adds a copy of the original for <paramref name="adapterName"/>.</summary>
    internal void AddAdapter(string adapterName)
    {
        if (modules_to_save.Contains(adapterName)) return;
        modules_to_save.Add(adapterName, ModuleCloner.Clone(original_module, ModuleName));
        SetRequiresGrad(original_module, false);
        SetRequiresGrad(modules_to_save[adapterName], false);
    }

    /// <summary>Activates one adapter's copy (trainable unless <paramref name="inferenceMode"/>) and freezes the others.</summary>
    internal void SetAdapter(string? adapterName, bool inferenceMode)
    {
        foreach (var name in modules_to_save.Keys) SetRequiresGrad(modules_to_save[name], name == adapterName && !inferenceMode);
        ActiveAdapter = adapterName;
    }

    internal void EnableAdapters(bool enabled, bool inferenceMode)
    {
        AdaptersDisabled = !enabled;
        if (enabled) SetAdapter(ActiveAdapter, inferenceMode);
        else foreach (var name in modules_to_save.Keys) SetRequiresGrad(modules_to_save[name], false);
    }

    internal void DeleteAdapter(string adapterName)
    {
        modules_to_save.Remove(adapterName);
        if (ActiveAdapter == adapterName) ActiveAdapter = null;
    }

    /// <summary>Unregisters the module that should replace this wrapper on unload (the active copy, else the original).</summary>
    internal nn.Module<Tensor, Tensor> DetachForUnload()
    {
        if (ActiveAdapter is not null && modules_to_save.Contains(ActiveAdapter))
        {
            var copy = modules_to_save[ActiveAdapter];
            modules_to_save.Detach(ActiveAdapter);
            return copy;
        }
        _internal_submodules.Remove("original_module");
        return original_module;
    }

    private static void SetRequiresGrad(nn.Module module, bool requiresGrad)
    {
        foreach (var parameter in module.parameters()) parameter.requires_grad = requiresGrad;
    }
}
