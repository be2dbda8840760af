using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>diffusers TimestepEmbedding: linear_1, act, linear_2 (no cond_proj, no post_act).</summary>
internal static class TimestepEmbeddingBuilder
{
    public static ModuleNode Build(string path, int inChannels, int timeEmbedDim, string activationClass) =>
        TorchLayers.Module(
            path,
            "TimestepEmbedding",
            TorchLayers.Linear(ModulePath.Join(path, "linear_1"), inChannels, timeEmbedDim),
            TorchLayers.Activation(ModulePath.Join(path, "act"), activationClass),
            TorchLayers.Linear(ModulePath.Join(path, "linear_2"), timeEmbedDim, timeEmbedDim));
}
