using Peft.Typed.Architecture.Configs;

namespace Peft.Typed.Architecture.Reading;

/// <summary>Reads every UNet2DConditionModel key of diffusers 0.27.2; a missing key keeps the constructor default.</summary>
internal static class UNet2DConditionConfigReader
{
    public static UNet2DConditionConfig Read(ConfigReader r)
    {
        var d = new UNet2DConditionConfig();
        var config = new UNet2DConditionConfig
        {
            SampleSize = r.NullableIntOrList("sample_size"),
            InChannels = r.Int("in_channels", d.InChannels),
            OutChannels = r.Int("out_channels", d.OutChannels),
            CenterInputSample = r.Bool("center_input_sample", d.CenterInputSample),
            FlipSinToCos = r.Bool("flip_sin_to_cos", d.FlipSinToCos),
            FreqShift = r.Int("freq_shift", d.FreqShift),
            DownBlockTypes = r.StringList("down_block_types", d.DownBlockTypes),
            MidBlockType = r.NullableString("mid_block_type", d.MidBlockType),
            UpBlockTypes = r.StringList("up_block_types", d.UpBlockTypes),
            OnlyCrossAttention = r.BoolOrList("only_cross_attention", d.OnlyCrossAttention),
            BlockOutChannels = r.IntList("block_out_channels", d.BlockOutChannels),
            LayersPerBlock = r.IntOrList("layers_per_block", d.LayersPerBlock),
            DownsamplePadding = r.Int("downsample_padding", d.DownsamplePadding),
            MidBlockScaleFactor = r.Double("mid_block_scale_factor", d.MidBlockScaleFactor),
            Dropout = r.Double("dropout", d.Dropout),
            ActFn = r.String("act_fn", d.ActFn),
            NormNumGroups = r.NullableInt("norm_num_groups", d.NormNumGroups),
            NormEps = r.Double("norm_eps", d.NormEps),
            CrossAttentionDim = r.IntOrList("cross_attention_dim", d.CrossAttentionDim),
            TransformerLayersPerBlock = r.IntOrList("transformer_layers_per_block", d.TransformerLayersPerBlock),
            ReverseTransformerLayersPerBlock = r.NullableIntListList("reverse_transformer_layers_per_block"),
            EncoderHidDim = r.NullableInt("encoder_hid_dim", d.EncoderHidDim),
            EncoderHidDimType = r.NullableString("encoder_hid_dim_type", d.EncoderHidDimType),
            AttentionHeadDim = r.IntOrList("attention_head_dim", d.AttentionHeadDim),
            NumAttentionHeads = r.NullableIntOrList("num_attention_heads"),
            DualCrossAttention = r.Bool("dual_cross_attention", d.DualCrossAttention),
            UseLinearProjection = r.Bool("use_linear_projection", d.UseLinearProjection),
            ClassEmbedType = r.NullableString("class_embed_type", d.ClassEmbedType),
            AdditionEmbedType = r.NullableString("addition_embed_type", d.AdditionEmbedType),
            AdditionTimeEmbedDim = r.NullableInt("addition_time_embed_dim", d.AdditionTimeEmbedDim),
            NumClassEmbeds = r.NullableInt("num_class_embeds", d.NumClassEmbeds),
            UpcastAttention = r.NullableBool("upcast_attention", d.UpcastAttention),
            ResnetTimeScaleShift = r.String("resnet_time_scale_shift", d.ResnetTimeScaleShift),
            ResnetSkipTimeAct = r.Bool("resnet_skip_time_act", d.ResnetSkipTimeAct),
            ResnetOutScaleFactor = r.Double("resnet_out_scale_factor", d.ResnetOutScaleFactor),
            TimeEmbeddingType = r.String("time_embedding_type", d.TimeEmbeddingType),
            TimeEmbeddingDim = r.NullableInt("time_embedding_dim", d.TimeEmbeddingDim),
            TimeEmbeddingActFn = r.NullableString("time_embedding_act_fn", d.TimeEmbeddingActFn),
            TimestepPostAct = r.NullableString("timestep_post_act", d.TimestepPostAct),
            TimeCondProjDim = r.NullableInt("time_cond_proj_dim", d.TimeCondProjDim),
            ConvInKernel = r.Int("conv_in_kernel", d.ConvInKernel),
            ConvOutKernel = r.Int("conv_out_kernel", d.ConvOutKernel),
            ProjectionClassEmbeddingsInputDim = r.NullableInt("projection_class_embeddings_input_dim", d.ProjectionClassEmbeddingsInputDim),
            AttentionType = r.String("attention_type", d.AttentionType),
            ClassEmbeddingsConcat = r.Bool("class_embeddings_concat", d.ClassEmbeddingsConcat),
            MidBlockOnlyCrossAttention = r.NullableBool("mid_block_only_cross_attention", d.MidBlockOnlyCrossAttention),
            CrossAttentionNorm = r.NullableString("cross_attention_norm", d.CrossAttentionNorm),
            AdditionEmbedTypeNumHeads = r.Int("addition_embed_type_num_heads", d.AdditionEmbedTypeNumHeads),
        };
        r.WarnAboutUnknownKeys(config.ClassName);
        return config;
    }
}
