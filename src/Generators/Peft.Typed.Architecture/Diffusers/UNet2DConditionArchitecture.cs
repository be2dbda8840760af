using System;
using System.Collections.Generic;
using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Tree;
using Peft.Typed.Architecture.Validation;

namespace Peft.Typed.Architecture.Diffusers;

/// <summary>
/// Builds the module tree of diffusers 0.27.2 <c>UNet2DConditionModel(**config)</c>: the same qualified paths,
/// class names, registration order, parameters and hyper-parameters as the Python model.
/// </summary>
public static class UNet2DConditionArchitecture
{
    /// <summary>Checks the config (throwing <see cref="Diagnostics.ArchitectureException"/> with every problem) and builds the tree.</summary>
    public static ModuleTree Build(UNet2DConditionConfig config)
    {
        UNet2DConditionConfigValidator.Validate(config).ThrowIfAny();
        return new ModuleTree(BuildRoot(config));
    }

    private static ModuleNode BuildRoot(UNet2DConditionConfig c)
    {
        var channels = c.BlockOutChannels;
        var activation = SupportedValues.DiffusersActivationClass(c.ActFn);
        var timeEmbedDim = c.TimeEmbeddingDim ?? channels[0] * 4;
        var resnet = new ResnetSettings(timeEmbedDim, c.NormEps, c.NormNumGroups!.Value, c.Dropout, "default", activation, outputScaleFactor: 1.0);

        var children = new List<ModuleNode>(12)
        {
            TorchLayers.Conv2d("conv_in", c.InChannels, channels[0], c.ConvInKernel, padding: (c.ConvInKernel - 1) / 2),
            TimestepsBuilder.Build("time_proj", channels[0], c.FlipSinToCos, c.FreqShift),
            TimestepEmbeddingBuilder.Build("time_embedding", channels[0], timeEmbedDim, activation),
        };
        if (c.AdditionEmbedType == "text_time")
        {
            // SDXL: embeds the 6 micro-conditioning time ids; add_embedding keeps TimestepEmbedding's default SiLU.
            children.Add(TimestepsBuilder.Build("add_time_proj", c.AdditionTimeEmbedDim!.Value, c.FlipSinToCos, c.FreqShift));
            children.Add(TimestepEmbeddingBuilder.Build("add_embedding", c.ProjectionClassEmbeddingsInputDim!.Value, timeEmbedDim, "SiLU"));
        }
        // diffusers registers down_blocks and up_blocks (empty) before assigning mid_block.
        children.Add(TorchLayers.ModuleList("down_blocks", channels.Count, (path, i) => DownBlock(c, path, i, resnet)));
        children.Add(TorchLayers.ModuleList("up_blocks", channels.Count, (path, i) => UpBlock(c, path, i, resnet)));
        children.Add(UNetMidBlock2DCrossAttnBuilder.Build(
            "mid_block",
            channels[channels.Count - 1],
            resnet.WithOutputScaleFactor(c.MidBlockScaleFactor),
            Transformer(c, c.AttentionHeadDim.ForMidBlock(), c.TransformerLayersPerBlock.ForMidBlock(), c.CrossAttentionDim.ForMidBlock(), onlyCrossAttention: false)));
        children.Add(TorchLayers.GroupNorm("conv_norm_out", c.NormNumGroups.Value, channels[0], c.NormEps));
        children.Add(TorchLayers.Activation("conv_act", activation));
        children.Add(TorchLayers.Conv2d("conv_out", channels[0], c.OutChannels, c.ConvOutKernel, padding: (c.ConvOutKernel - 1) / 2));
        return TorchLayers.Module("", "UNet2DConditionModel", ModuleOptions.Empty, children);
    }

    private static ModuleNode DownBlock(UNet2DConditionConfig c, string path, int i, ResnetSettings resnet)
    {
        var channels = c.BlockOutChannels;
        var inChannels = channels[Math.Max(i - 1, 0)];
        var outChannels = channels[i];
        var addDownsample = i != channels.Count - 1;
        var layers = c.LayersPerBlock.ForDownBlock(i);
        if (SupportedValues.BlockClass(c.DownBlockTypes[i]) == "DownBlock2D")
        {
            return DownBlock2DBuilder.Build(path, layers, inChannels, outChannels, addDownsample, c.DownsamplePadding, resnet);
        }
        var transformer = Transformer(c, c.AttentionHeadDim.ForDownBlock(i), c.TransformerLayersPerBlock.ForDownBlock(i), c.CrossAttentionDim.ForDownBlock(i), c.OnlyCrossAttention.ForDownBlock(i));
        return CrossAttnDownBlock2DBuilder.Build(path, layers, inChannels, outChannels, addDownsample, c.DownsamplePadding, resnet, transformer);
    }

    /// <summary>Up block i mirrors down block n-1-i: per-block lists are read reversed, and it has one more resnet.</summary>
    private static ModuleNode UpBlock(UNet2DConditionConfig c, string path, int i, ResnetSettings resnet)
    {
        var channels = c.BlockOutChannels;
        var last = channels.Count - 1;
        var outChannels = channels[last - i];
        var prevOutputChannels = channels[last - Math.Max(i - 1, 0)];
        var inChannels = channels[last - Math.Min(i + 1, last)];
        var addUpsample = i != last;
        var layers = c.LayersPerBlock.ForUpBlock(i) + 1;
        if (SupportedValues.BlockClass(c.UpBlockTypes[i]) == "UpBlock2D")
        {
            return UpBlock2DBuilder.Build(path, layers, inChannels, prevOutputChannels, outChannels, addUpsample, resnet);
        }
        var transformer = Transformer(c, c.AttentionHeadDim.ForUpBlock(i), c.TransformerLayersPerBlock.ForUpBlock(i), c.CrossAttentionDim.ForUpBlock(i), c.OnlyCrossAttention.ForUpBlock(i));
        return CrossAttnUpBlock2DBuilder.Build(path, layers, inChannels, prevOutputChannels, outChannels, addUpsample, resnet, transformer);
    }

    private static TransformerSettings Transformer(UNet2DConditionConfig c, int heads, int layers, int crossAttentionDim, bool onlyCrossAttention) =>
        new TransformerSettings(heads, layers, crossAttentionDim, c.NormNumGroups!.Value, c.UseLinearProjection, onlyCrossAttention, c.UpcastAttention);
}
