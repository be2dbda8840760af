using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Targeting;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Typed;

/// <summary>A <see cref="TypedModel"/> over a runtime model of type <typeparamref name="TModel"/> (<c>UNet2DConditionModel</c>, <c>CLIPTextModel</c>, ...).</summary>
public abstract class TypedModel<TModel> : TypedModel
    where TModel : nn.Module
{
    protected TypedModel(TModel model, ArchitectureConfig modelConfig, ArchitectureConfig generatedConfig, ModuleCatalog catalog, bool ownsModel)
        : base(model, modelConfig, generatedConfig, catalog, ownsModel)
    {
        Model = model;
    }

    /// <summary>The runtime model: call it, load weights into it, pass it to a trainer.</summary>
    public TModel Model { get; }
}
