using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Transformers;
using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Loading;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Clip;

/// <summary>
/// transformers <c>CLIPTextModel</c> (the Stable Diffusion text encoder), built from its module tree:
/// <c>forward(input_ids)</c> gives the last hidden state, the pooled output and every hidden state.
/// </summary>
public sealed class CLIPTextModel : nn.Module<Tensor, CLIPTextModelOutput>
{
    private readonly CLIPTextTransformer text_model;

    /// <summary>
    /// Builds the model described by <paramref name="config"/>, with parameters created by <paramref name="layers"/>
    /// (randomly initialised on CPU in float32 by default; <see cref="LayerFactory.Meta"/> allocates nothing).
    /// </summary>
    public CLIPTextModel(ClipTextConfig config, LayerFactory? layers = null) : base(nameof(CLIPTextModel))
    {
        if (config.WithProjection)
            throw new ArgumentException("The config describes CLIPTextModelWithProjection; build that class instead.", nameof(config));
        Config = config;
        Tree = ClipTextArchitecture.Build(config);
        text_model = new CLIPTextTransformer(Tree.Find("text_model"), layers ?? LayerFactory.Default, config.EosTokenId);
        RegisterComponents();
    }

    public ClipTextConfig Config { get; }

    /// <summary>The module tree this model was built from: its paths and parameters are this model's names.</summary>
    public ModuleTree Tree { get; }

    public CLIPTextTransformer TextModel => text_model;

    /// <summary>
    /// <c>CLIPTextModel.from_pretrained(folder)</c>: <c>config.json</c> and <c>model.safetensors</c> (or a sharded index;
    /// fp32, fp16 or bf16), loaded strictly into a model of <paramref name="dtype"/> (default float32) on
    /// <paramref name="device"/> (default CPU), in eval mode.
    /// </summary>
    public static CLIPTextModel FromPretrained(string folder, ScalarType? dtype = null, Device? device = null) =>
        PretrainedFolder.Load<ClipTextConfig, CLIPTextModel>(folder, "model", dtype, device,
            (config, layers) => new(config, layers), (model, path) => model.LoadWeights(path));

    /// <summary>Copies a safetensors checkpoint into this model; a stored <c>position_ids</c> buffer is ignored.</summary>
    public LoadReport LoadWeights(string path, bool strict = true) => StateDictLoader.Load(this, path, strict, mapKey: ClipCheckpointKeys.Map);

    /// <param name="inputIds">Token ids, [B, tokens] (int64), at most max_position_embeddings tokens.</param>
    public override CLIPTextModelOutput forward(Tensor inputIds) => text_model.call(inputIds);
}
