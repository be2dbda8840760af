using System.Collections.Generic;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Tree;
using Peft.Typed.Architecture.Validation;

namespace Peft.Typed.Architecture.Transformers;

/// <summary>
/// Builds the module tree of transformers <c>CLIPTextModel</c> / <c>CLIPTextModelWithProjection</c>:
/// <c>text_model</c> (CLIPTextTransformer: embeddings, encoder.layers.N, final_layer_norm) and, with projection,
/// <c>text_projection</c> (Linear hidden to projection_dim, no bias). The non-persistent <c>position_ids</c>
/// buffer is not a parameter and is not part of the tree.
/// </summary>
public static class ClipTextArchitecture
{
    /// <summary>Checks the config (throwing <see cref="Diagnostics.ArchitectureException"/> with every problem) and builds the tree.</summary>
    public static ModuleTree Build(ClipTextConfig config)
    {
        ClipTextConfigValidator.Validate(config).ThrowIfAny();
        var children = new List<ModuleNode>(2) { TextTransformer("text_model", config) };
        if (config.WithProjection) children.Add(TorchLayers.Linear("text_projection", config.HiddenSize, config.ProjectionDim, bias: false));
        return new ModuleTree(TorchLayers.Module("", config.ClassName, ModuleOptions.Empty, children));
    }

    private static ModuleNode TextTransformer(string path, ClipTextConfig c)
    {
        var embeddings = ModulePath.Join(path, "embeddings");
        var encoder = ModulePath.Join(path, "encoder");
        return TorchLayers.Module(
            path,
            "CLIPTextTransformer",
            TorchLayers.Module(
                embeddings,
                "CLIPTextEmbeddings",
                TorchLayers.Embedding(ModulePath.Join(embeddings, "token_embedding"), c.VocabSize, c.HiddenSize),
                TorchLayers.Embedding(ModulePath.Join(embeddings, "position_embedding"), c.MaxPositionEmbeddings, c.HiddenSize)),
            TorchLayers.Module(
                encoder,
                "CLIPEncoder",
                TorchLayers.ModuleList(ModulePath.Join(encoder, "layers"), c.NumHiddenLayers, (layerPath, _) => ClipEncoderLayerBuilder.Build(layerPath, c))),
            TorchLayers.LayerNorm(ModulePath.Join(path, "final_layer_norm"), c.HiddenSize, c.LayerNormEps));
    }
}
