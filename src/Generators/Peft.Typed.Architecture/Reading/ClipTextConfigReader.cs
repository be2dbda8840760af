using Peft.Typed.Architecture.Configs;

namespace Peft.Typed.Architecture.Reading;

/// <summary>
/// Reads the CLIPTextConfig keys (transformers defaults for missing ones). Other keys are generic
/// PretrainedConfig fields (<c>id2label</c>, <c>transformers_version</c>, ...) and are not reported.
/// </summary>
internal static class ClipTextConfigReader
{
    public static ClipTextConfig Read(ConfigReader r)
    {
        var d = new ClipTextConfig();
        return new ClipTextConfig
        {
            Architectures = r.StringList("architectures", d.Architectures),
            VocabSize = r.Int("vocab_size", d.VocabSize),
            HiddenSize = r.Int("hidden_size", d.HiddenSize),
            IntermediateSize = r.Int("intermediate_size", d.IntermediateSize),
            ProjectionDim = r.Int("projection_dim", d.ProjectionDim),
            NumHiddenLayers = r.Int("num_hidden_layers", d.NumHiddenLayers),
            NumAttentionHeads = r.Int("num_attention_heads", d.NumAttentionHeads),
            MaxPositionEmbeddings = r.Int("max_position_embeddings", d.MaxPositionEmbeddings),
            HiddenAct = r.String("hidden_act", d.HiddenAct),
            LayerNormEps = r.Double("layer_norm_eps", d.LayerNormEps),
            AttentionDropout = r.Double("attention_dropout", d.AttentionDropout),
            InitializerRange = r.Double("initializer_range", d.InitializerRange),
            InitializerFactor = r.Double("initializer_factor", d.InitializerFactor),
            PadTokenId = r.NullableInt("pad_token_id", d.PadTokenId),
            BosTokenId = r.NullableInt("bos_token_id", d.BosTokenId),
            EosTokenId = r.NullableInt("eos_token_id", d.EosTokenId),
            TorchDtype = r.NullableString("torch_dtype", d.TorchDtype),
        };
    }
}
