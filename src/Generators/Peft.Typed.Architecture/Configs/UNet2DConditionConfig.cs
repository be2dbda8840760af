using System.Collections.Generic;

namespace Peft.Typed.Architecture.Configs;

/// <summary>
/// <c>unet/config.json</c> of a diffusers <c>UNet2DConditionModel</c>: one property per constructor argument of
/// diffusers 0.27.2, named after the JSON key in PascalCase (the key is given in each summary), with the
/// diffusers default for keys missing from the file.
/// <para>Every option is read and checked. Values this library cannot build (another block type,
/// <c>class_embed_type</c> set, ...) are reported, never ignored; options that diffusers 0.27.2 itself does not
/// pass to the supported blocks (<c>resnet_skip_time_act</c>, <c>resnet_out_scale_factor</c>,
/// <c>cross_attention_norm</c>, <c>addition_embed_type_num_heads</c>, <c>mid_block_only_cross_attention</c>)
/// are kept but do not change the model, exactly as in diffusers.</para>
/// </summary>
public sealed class UNet2DConditionConfig : ArchitectureConfig
{
    public override ArchitectureKind Kind => ArchitectureKind.UNet2DConditionModel;

    /// <summary><c>sample_size</c>: latent height/width, informational (int, [h, w] or null).</summary>
    public ScalarOrList<int>? SampleSize { get; set; }

    /// <summary><c>in_channels</c>.</summary>
    public int InChannels { get; set; } = 4;

    /// <summary><c>out_channels</c>.</summary>
    public int OutChannels { get; set; } = 4;

    /// <summary><c>center_input_sample</c>: the forward computes <c>2 * sample - 1</c> first.</summary>
    public bool CenterInputSample { get; set; }

    /// <summary><c>flip_sin_to_cos</c>: sinusoidal timestep embedding as [cos, sin].</summary>
    public bool FlipSinToCos { get; set; } = true;

    /// <summary><c>freq_shift</c>: Timesteps <c>downscale_freq_shift</c>.</summary>
    public int FreqShift { get; set; }

    /// <summary><c>down_block_types</c>: DownBlock2D or CrossAttnDownBlock2D (a "UNetRes" prefix is dropped, as diffusers does).</summary>
    public IReadOnlyList<string> DownBlockTypes { get; set; } = new[] { "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D" };

    /// <summary><c>mid_block_type</c>: UNetMidBlock2DCrossAttn.</summary>
    public string? MidBlockType { get; set; } = "UNetMidBlock2DCrossAttn";

    /// <summary><c>up_block_types</c>: UpBlock2D or CrossAttnUpBlock2D.</summary>
    public IReadOnlyList<string> UpBlockTypes { get; set; } = new[] { "UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D" };

    /// <summary><c>only_cross_attention</c>: attn1 attends to the encoder states too (per down block, reversed for up blocks; not used by the mid block).</summary>
    public ScalarOrList<bool> OnlyCrossAttention { get; set; } = false;

    /// <summary><c>block_out_channels</c>: one width per down block.</summary>
    public IReadOnlyList<int> BlockOutChannels { get; set; } = new[] { 320, 640, 1280, 1280 };

    /// <summary><c>layers_per_block</c>: resnets per down block (up blocks get one more).</summary>
    public ScalarOrList<int> LayersPerBlock { get; set; } = 2;

    /// <summary><c>downsample_padding</c>: padding of the stride-2 Downsample2D conv.</summary>
    public int DownsamplePadding { get; set; } = 1;

    /// <summary><c>mid_block_scale_factor</c>: output_scale_factor of the mid block resnets.</summary>
    public double MidBlockScaleFactor { get; set; } = 1;

    /// <summary><c>dropout</c>: Dropout p of the resnets (the transformer blocks always use 0).</summary>
    public double Dropout { get; set; }

    /// <summary><c>act_fn</c>: silu/swish, mish, gelu or relu (case-insensitive, as diffusers' get_activation).</summary>
    public string ActFn { get; set; } = "silu";

    /// <summary><c>norm_num_groups</c>: GroupNorm groups (null is not supported).</summary>
    public int? NormNumGroups { get; set; } = 32;

    /// <summary><c>norm_eps</c>: eps of the resnet GroupNorms and conv_norm_out.</summary>
    public double NormEps { get; set; } = 1e-5;

    /// <summary><c>cross_attention_dim</c>: width of encoder_hidden_states (int or per down block).</summary>
    public ScalarOrList<int> CrossAttentionDim { get; set; } = 1280;

    /// <summary><c>transformer_layers_per_block</c>: BasicTransformerBlocks per Transformer2DModel (int or per down block).</summary>
    public ScalarOrList<int> TransformerLayersPerBlock { get; set; } = 1;

    /// <summary><c>reverse_transformer_layers_per_block</c>: only null is supported.</summary>
    public IReadOnlyList<IReadOnlyList<int>>? ReverseTransformerLayersPerBlock { get; set; }

    /// <summary><c>encoder_hid_dim</c>: only null is supported.</summary>
    public int? EncoderHidDim { get; set; }

    /// <summary><c>encoder_hid_dim_type</c>: only null is supported.</summary>
    public string? EncoderHidDimType { get; set; }

    /// <summary>
    /// <c>attention_head_dim</c>: despite its name, the NUMBER OF HEADS of every Transformer2DModel (diffusers'
    /// historic misnaming); head size = channels / heads. Int or per down block.
    /// </summary>
    public ScalarOrList<int> AttentionHeadDim { get; set; } = 8;

    /// <summary><c>num_attention_heads</c>: must be null; diffusers 0.27.2 rejects it for this class (diffusers#2011).</summary>
    public ScalarOrList<int>? NumAttentionHeads { get; set; }

    /// <summary><c>dual_cross_attention</c>: only false is supported.</summary>
    public bool DualCrossAttention { get; set; }

    /// <summary><c>use_linear_projection</c>: Transformer2DModel proj_in/proj_out are Linear (SD 2.x, SDXL) instead of 1x1 Conv2d.</summary>
    public bool UseLinearProjection { get; set; }

    /// <summary><c>class_embed_type</c>: only null is supported.</summary>
    public string? ClassEmbedType { get; set; }

    /// <summary><c>addition_embed_type</c>: null or "text_time" (SDXL).</summary>
    public string? AdditionEmbedType { get; set; }

    /// <summary><c>addition_time_embed_dim</c>: width of each time id embedding for "text_time" (SDXL: 256).</summary>
    public int? AdditionTimeEmbedDim { get; set; }

    /// <summary><c>num_class_embeds</c>: only null is supported.</summary>
    public int? NumClassEmbeds { get; set; }

    /// <summary><c>upcast_attention</c>: QK^T in float32 (SD 2.1); null counts as false, and is kept as null like diffusers.</summary>
    public bool? UpcastAttention { get; set; } = false;

    /// <summary><c>resnet_time_scale_shift</c>: only "default" is supported.</summary>
    public string ResnetTimeScaleShift { get; set; } = "default";

    /// <summary><c>resnet_skip_time_act</c>: no effect on the supported blocks (diffusers passes it to other block types only).</summary>
    public bool ResnetSkipTimeAct { get; set; }

    /// <summary><c>resnet_out_scale_factor</c>: no effect on the supported blocks (diffusers passes it to other block types only).</summary>
    public double ResnetOutScaleFactor { get; set; } = 1.0;

    /// <summary><c>time_embedding_type</c>: only "positional" is supported.</summary>
    public string TimeEmbeddingType { get; set; } = "positional";

    /// <summary><c>time_embedding_dim</c>: width of the time embedding; null means 4 * block_out_channels[0].</summary>
    public int? TimeEmbeddingDim { get; set; }

    /// <summary><c>time_embedding_act_fn</c>: only null is supported.</summary>
    public string? TimeEmbeddingActFn { get; set; }

    /// <summary><c>timestep_post_act</c>: only null is supported.</summary>
    public string? TimestepPostAct { get; set; }

    /// <summary><c>time_cond_proj_dim</c>: only null is supported.</summary>
    public int? TimeCondProjDim { get; set; }

    /// <summary><c>conv_in_kernel</c>: kernel of conv_in, padding (k - 1) / 2.</summary>
    public int ConvInKernel { get; set; } = 3;

    /// <summary><c>conv_out_kernel</c>: kernel of conv_out, padding (k - 1) / 2.</summary>
    public int ConvOutKernel { get; set; } = 3;

    /// <summary><c>projection_class_embeddings_input_dim</c>: input width of add_embedding for "text_time" (SDXL: 2816).</summary>
    public int? ProjectionClassEmbeddingsInputDim { get; set; }

    /// <summary><c>attention_type</c>: only "default" is supported.</summary>
    public string AttentionType { get; set; } = "default";

    /// <summary><c>class_embeddings_concat</c>: only false is supported.</summary>
    public bool ClassEmbeddingsConcat { get; set; }

    /// <summary><c>mid_block_only_cross_attention</c>: no effect (diffusers 0.27.2 does not pass it to UNetMidBlock2DCrossAttn).</summary>
    public bool? MidBlockOnlyCrossAttention { get; set; }

    /// <summary><c>cross_attention_norm</c>: no effect on the supported blocks (diffusers passes it to other block types only).</summary>
    public string? CrossAttentionNorm { get; set; }

    /// <summary><c>addition_embed_type_num_heads</c>: no effect ("text" addition embeddings only).</summary>
    public int AdditionEmbedTypeNumHeads { get; set; } = 64;
}
