using Peft.Typed.Architecture.Tree;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>
/// diffusers UNetMidBlock2D as the VAE uses it: attentions = [single-head Attention with its own GroupNorm and
/// residual], resnets = [ResnetBlock2D] * 2, eps 1e-6, output_scale_factor 1.
/// </summary>
internal static class UNetMidBlock2DBuilder
{
    public static ModuleNode Build(string path, int channels, ResnetSettings resnet)
    {
        // The VAE passes attention_head_dim = channels, so heads = channels / attention_head_dim = 1.
        var dimHead = channels;
        return TorchLayers.Module(
            path,
            "UNetMidBlock2D",
            TorchLayers.ModuleList(ModulePath.Join(path, "attentions"), 1, (itemPath, _) =>
                AttentionBuilder.Vae(itemPath, channels, channels / dimHead, dimHead, resnet.Groups, resnet.Eps, resnet.OutputScaleFactor)),
            TorchLayers.ModuleList(ModulePath.Join(path, "resnets"), 2, (itemPath, _) => ResnetBlock2DBuilder.Build(itemPath, channels, channels, resnet)));
    }
}
