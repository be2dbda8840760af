using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Transformers;
using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Loading;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Clip;

/// <summary>
/// transformers <c>CLIPTextModelWithProjection</c> (SDXL's second text encoder): the CLIP text transformer plus
/// <c>text_projection</c> (no bias) applied to the pooled output.
/// </summary>
public sealed class CLIPTextModelWithProjection : nn.Module<Tensor, CLIPTextModelWithProjectionOutput>
{
    private readonly CLIPTextTransformer text_model;
    private readonly nn.Module<Tensor, Tensor> text_projection;

    /// <summary>
    /// Builds the model described by <paramref name="config"/> (architectures ["CLIPTextModelWithProjection"]), with
    /// parameters created by <paramref name="layers"/> (random on CPU in float32 by default, or on the meta device).
    /// </summary>
    public CLIPTextModelWithProjection(ClipTextConfig config, LayerFactory? layers = null) : base(nameof(CLIPTextModelWithProjection))
    {
        if (!config.WithProjection)
            throw new ArgumentException("The config describes CLIPTextModel (no text_projection); build that class instead.", nameof(config));
        Config = config;
        Tree = ClipTextArchitecture.Build(config);
        layers ??= LayerFactory.Default;
        text_model = new CLIPTextTransformer(Tree.Find("text_model"), layers, config.EosTokenId);
        text_projection = layers.Linear(Tree.Find("text_projection"));
        RegisterComponents();
    }

    public ClipTextConfig Config { get; }

    /// <summary>The module tree this model was built from: its paths and parameters are this model's names.</summary>
    public ModuleTree Tree { get; }

    public CLIPTextTransformer TextModel => text_model;

    /// <summary>
    /// <c>CLIPTextModelWithProjection.from_pretrained(folder)</c>: <c>config.json</c> and <c>model.safetensors</c> (or a
    /// sharded index; fp32, fp16 or bf16), loaded strictly, in eval mode.
    /// </summary>
    public static CLIPTextModelWithProjection FromPretrained(string folder, ScalarType? dtype = null, Device? device = null) =>
        PretrainedFolder.Load<ClipTextConfig, CLIPTextModelWithProjection>(folder, "model", dtype, device,
            (config, layers) => new(config, layers), (model, path) => model.LoadWeights(path));

    /// <summary>Copies a safetensors checkpoint into this model; a stored <c>position_ids</c> buffer is ignored.</summary>
    public LoadReport LoadWeights(string path, bool strict = true) => StateDictLoader.Load(this, path, strict, mapKey: ClipCheckpointKeys.Map);

    public override CLIPTextModelWithProjectionOutput forward(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        var output = text_model.call(inputIds);
        var textEmbeds = text_projection.call(output.PooledOutput);
        scope.MoveToOuter(output.HiddenStates);
        return new CLIPTextModelWithProjectionOutput(textEmbeds.MoveToOuterDisposeScope(), output.LastHiddenState.MoveToOuterDisposeScope(), output.HiddenStates);
    }
}
