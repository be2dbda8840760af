using Peft.Typed.Architecture;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Typed;

/// <summary>
/// Base of the classes the source generator writes for a config.json (<c>PeftTypedClass="Sd15Unet"</c>): the runtime
/// model built from that config, its module catalog (for targets and typed views) and the adapters applied to it.
/// Typed views read the live module at their path, so after <see cref="WithAdapter"/> they see the adapter layers.
/// A typed model made by <c>Create</c> or <c>FromPretrained</c> owns its runtime model and disposes it; one made by
/// <c>Wrap(model)</c> does not (<see cref="OwnsModel"/>), so the caller keeps disposing the model it built.
/// </summary>
public abstract class TypedModel : IDisposable
{
    private bool _disposed;

    /// <summary>
    /// Wraps <paramref name="model"/> after checking that its config is the one the class was generated from;
    /// <paramref name="ownsModel"/> says whether <see cref="Dispose"/> disposes it.
    /// </summary>
    protected TypedModel(nn.Module model, ArchitectureConfig modelConfig, ArchitectureConfig generatedConfig, ModuleCatalog catalog, bool ownsModel)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(modelConfig);
        var differences = ConfigComparer.Differences(generatedConfig, modelConfig);
        if (differences.Count > 0) throw new TypedModelConfigException(catalog.ModelName, $"The {model.GetType().Name} given", differences);
        RootModule = model;
        Catalog = catalog;
        OwnsModel = ownsModel;
    }

    /// <summary>
    /// True when <see cref="Dispose"/> disposes the runtime model (a typed model from <c>Create</c> or
    /// <c>FromPretrained</c>); false for <c>Wrap(model)</c>, whose caller owns the model.
    /// </summary>
    public bool OwnsModel { get; }

    /// <summary>Every module of the model (qualified name and class) with its targeting structure.</summary>
    public ModuleCatalog Catalog { get; }

    /// <summary>The adapters applied with <see cref="WithAdapter"/>, or null before the first.</summary>
    public PeftModel? Peft { get; private set; }

    /// <summary>The runtime model (untyped).</summary>
    public nn.Module RootModule { get; }

    /// <summary>
    /// PEFT's <c>get_peft_model</c> on the first call, <c>add_adapter</c> on later ones (the new adapter is then frozen
    /// and inactive until <see cref="PeftModel.SetAdapter"/>). The model is changed in place.
    /// </summary>
    public PeftModel WithAdapter(AdapterConfig config, string adapterName = PeftModel.DefaultAdapterName)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Peft is null) Peft = PeftModel.Create(RootModule, config, adapterName);
        else Peft.AddAdapter(adapterName, config);
        return Peft;
    }

    /// <summary>The module at <paramref name="path"/> now (an adapter layer once one wraps it).</summary>
    public nn.Module ModuleAt(string path)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return ModuleSurgery.Find(RootModule, path);
    }

    /// <summary>Ends this typed handle; disposes the runtime model (and its adapters) only when <see cref="OwnsModel"/>.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (OwnsModel) RootModule.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Reads <c>{folder}/config.json</c> and throws <see cref="TypedModelConfigException"/> listing every key whose
    /// value differs from <paramref name="generatedConfig"/>.
    /// </summary>
    protected static void CheckPretrainedConfig(string folder, ArchitectureConfig generatedConfig, string modelName)
    {
        var path = Path.Combine(folder, "config.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"No config.json in model folder '{folder}'.", path);
        var config = ArchitectureDescription.Parse(File.ReadAllText(path), path).Config;
        var differences = ConfigComparer.Differences(generatedConfig, config);
        if (differences.Count > 0) throw new TypedModelConfigException(modelName, path, differences);
    }
}
