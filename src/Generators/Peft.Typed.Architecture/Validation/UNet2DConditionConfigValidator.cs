using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Diagnostics;
using Peft.Typed.Architecture.Reading;

namespace Peft.Typed.Architecture.Validation;

/// <summary>
/// Every check the UNet builder relies on: supported block types and values, one entry per down block in every
/// per-block list, positive sizes, GroupNorm-compatible widths. Mirrors UNet2DConditionModel._check_config and the
/// ValueErrors diffusers 0.27.2 raises, plus the options this library does not implement.
/// </summary>
internal static class UNet2DConditionConfigValidator
{
    public static ConfigProblems Validate(UNet2DConditionConfig c)
    {
        var p = new ConfigProblems(c);
        var blocks = c.DownBlockTypes.Count;
        if (blocks == 0) p.Add(ArchitectureDiagnosticCode.InvalidOptionValue, "down_block_types", "'down_block_types' must list at least one block.");

        p.EachOneOf("down_block_types", c.DownBlockTypes, SupportedValues.BlockClass, SupportedValues.UNetDownBlocks, ArchitectureDiagnosticCode.UnknownBlockType);
        p.EachOneOf("up_block_types", c.UpBlockTypes, SupportedValues.BlockClass, SupportedValues.UNetUpBlocks, ArchitectureDiagnosticCode.UnknownBlockType);
        p.OneOf("mid_block_type", c.MidBlockType, SupportedValues.UNetMidBlocks, ArchitectureDiagnosticCode.UnknownBlockType);

        p.SameLength("up_block_types", c.UpBlockTypes.Count, "down_block_types", blocks);
        p.SameLength("block_out_channels", c.BlockOutChannels.Count, "down_block_types", blocks);
        CheckPerBlock(p, "only_cross_attention", c.OnlyCrossAttention.Count, blocks);
        CheckPerBlock(p, "attention_head_dim", c.AttentionHeadDim.Count, blocks);
        CheckPerBlock(p, "cross_attention_dim", c.CrossAttentionDim.Count, blocks);
        CheckPerBlock(p, "layers_per_block", c.LayersPerBlock.Count, blocks);
        CheckPerBlock(p, "transformer_layers_per_block", c.TransformerLayersPerBlock.Count, blocks);

        p.OneOf("act_fn", c.ActFn.ToLowerInvariant(), SupportedValues.DiffusersActivations);
        if (c.NumAttentionHeads is not null)
        {
            p.Add(ArchitectureDiagnosticCode.UnsupportedOptionValue, "num_attention_heads",
                $"Unsupported num_attention_heads {c.NumAttentionHeads}: diffusers 0.27.2 rejects it for UNet2DConditionModel (diffusers#2011); " +
                "set attention_head_dim, which diffusers reads as the number of heads.");
        }
        if (c.ReverseTransformerLayersPerBlock is not null)
        {
            p.Add(ArchitectureDiagnosticCode.UnsupportedOptionValue, "reverse_transformer_layers_per_block",
                "Unsupported reverse_transformer_layers_per_block (a list); only null is supported.");
        }
        if (c.NormNumGroups is null)
        {
            p.Add(ArchitectureDiagnosticCode.UnsupportedOptionValue, "norm_num_groups", "Unsupported norm_num_groups null; an integer is required.");
        }
        p.Only("resnet_time_scale_shift", c.ResnetTimeScaleShift, "default");
        p.Only("time_embedding_type", c.TimeEmbeddingType, "positional");
        p.Only("attention_type", c.AttentionType, "default");
        p.Only("dual_cross_attention", c.DualCrossAttention, false);
        p.Only("class_embeddings_concat", c.ClassEmbeddingsConcat, false);
        p.Only("class_embed_type", c.ClassEmbedType, null);
        p.Only("num_class_embeds", c.NumClassEmbeds, null);
        p.Only("encoder_hid_dim", c.EncoderHidDim, null);
        p.Only("encoder_hid_dim_type", c.EncoderHidDimType, null);
        p.Only("time_embedding_act_fn", c.TimeEmbeddingActFn, null);
        p.Only("timestep_post_act", c.TimestepPostAct, null);
        p.Only("time_cond_proj_dim", c.TimeCondProjDim, null);
        CheckAdditionEmbedding(p, c);

        p.AtLeast("in_channels", c.InChannels, 1);
        p.AtLeast("out_channels", c.OutChannels, 1);
        p.AtLeast("block_out_channels", c.BlockOutChannels, 1);
        p.AtLeast("layers_per_block", c.LayersPerBlock, 1);
        p.AtLeast("transformer_layers_per_block", c.TransformerLayersPerBlock, 1);
        p.AtLeast("attention_head_dim", c.AttentionHeadDim, 1);
        p.AtLeast("cross_attention_dim", c.CrossAttentionDim, 1);
        p.AtLeast("downsample_padding", c.DownsamplePadding, 0);
        p.AtLeast("conv_in_kernel", c.ConvInKernel, 1);
        p.AtLeast("conv_out_kernel", c.ConvOutKernel, 1);
        if (c.TimeEmbeddingDim is int timeEmbeddingDim) p.AtLeast("time_embedding_dim", timeEmbeddingDim, 1);
        if (c.NormNumGroups is int groups)
        {
            p.AtLeast("norm_num_groups", groups, 1);
            p.DivisibleBy("block_out_channels", c.BlockOutChannels, groups, "norm_num_groups", "GroupNorm needs whole groups");
        }
        if (!p.HasErrors) CheckHeadsFitChannels(p, c);
        return p;
    }

    private static void CheckPerBlock(ConfigProblems p, string key, int? count, int blocks)
    {
        if (count is int n) p.SameLength(key, n, "down_block_types", blocks);
    }

    private static void CheckAdditionEmbedding(ConfigProblems p, UNet2DConditionConfig c)
    {
        if (c.AdditionEmbedType is null) return;
        if (c.AdditionEmbedType != "text_time")
        {
            p.Add(ArchitectureDiagnosticCode.UnsupportedOptionValue, "addition_embed_type",
                $"Unsupported addition_embed_type {OptionText.Of(c.AdditionEmbedType)}; supported: null, 'text_time'.");
            return;
        }
        if (c.AdditionTimeEmbedDim is null)
        {
            p.Add(ArchitectureDiagnosticCode.InvalidOptionValue, "addition_time_embed_dim",
                "addition_embed_type 'text_time' needs addition_time_embed_dim (an integer); found null.");
        }
        else
        {
            p.AtLeast("addition_time_embed_dim", c.AdditionTimeEmbedDim.Value, 1);
        }
        if (c.ProjectionClassEmbeddingsInputDim is null)
        {
            p.Add(ArchitectureDiagnosticCode.InvalidOptionValue, "projection_class_embeddings_input_dim",
                "addition_embed_type 'text_time' needs projection_class_embeddings_input_dim (an integer); found null.");
        }
        else
        {
            p.AtLeast("projection_class_embeddings_input_dim", c.ProjectionClassEmbeddingsInputDim.Value, 1);
        }
    }

    /// <summary>Head size = channels / heads (integer division, as diffusers); more heads than channels leaves none.</summary>
    private static void CheckHeadsFitChannels(ConfigProblems p, UNet2DConditionConfig c)
    {
        for (var i = 0; i < c.BlockOutChannels.Count; i++)
        {
            var heads = c.AttentionHeadDim.ForDownBlock(i);
            if (heads > c.BlockOutChannels[i])
            {
                var key = c.AttentionHeadDim.IsList ? $"attention_head_dim[{i}]" : "attention_head_dim";
                var message = $"'{key}' {heads} (the number of heads) is larger than block_out_channels[{i}] {c.BlockOutChannels[i]}; each head needs at least one channel.";
                if (c.AttentionHeadDim.IsList) p.AddAtItem(ArchitectureDiagnosticCode.InvalidOptionValue, "attention_head_dim", i, message);
                else p.Add(ArchitectureDiagnosticCode.InvalidOptionValue, "attention_head_dim", message);
            }
        }
    }
}
