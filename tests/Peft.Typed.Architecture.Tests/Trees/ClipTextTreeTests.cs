using Peft.Typed.Architecture.Configs;
using Peft.Typed.Architecture.Tests.Support;
using Peft.Typed.Architecture.Transformers;
using Peft.Typed.Testing;

namespace Peft.Typed.Architecture.Tests.Trees;

/// <summary>The transformers CLIPTextModel / CLIPTextModelWithProjection layout.</summary>
public sealed class ClipTextTreeTests
{
    private static ArchitectureDescription Tiny() =>
        ArchitectureDescription.Parse(File.ReadAllText(Fixtures.PathOf("clip-text-tiny", "config.json")), "clip-text-tiny/config.json");

    [Fact]
    public void Tiny_config_reads_the_values_listed_in_its_readme()
    {
        var config = Assert.IsType<ClipTextConfig>(Tiny().Config);

        Assert.Equal(ArchitectureKind.CLIPTextModel, config.Kind);
        Assert.Equal(49408, config.VocabSize);
        Assert.Equal(32, config.HiddenSize);
        Assert.Equal(2, config.NumAttentionHeads);
        Assert.Equal(2, config.NumHiddenLayers);
        Assert.Equal(37, config.IntermediateSize);
        Assert.Equal(77, config.MaxPositionEmbeddings);
        Assert.Equal("quick_gelu", config.HiddenAct);
        Assert.Equal(1e-5, config.LayerNormEps);
        Assert.Equal((0, 2, 1), (config.BosTokenId, config.EosTokenId, config.PadTokenId));
    }

    [Fact]
    public void Tiny_tree_has_exactly_the_36_tensors_of_model_safetensors()
    {
        var weights = SafetensorsHeader.Read(Fixtures.PathOf("clip-text-tiny", "model.safetensors"));
        var tree = Tiny().BuildTree();

        Assert.Equal(36, weights.Count);
        Assert.Equal(
            weights.OrderBy(w => w.Key, StringComparer.Ordinal).Select(w => $"{w.Key} [{string.Join(", ", w.Value)}]"),
            tree.Parameters.Select(p => p.ToString()).OrderBy(s => s, StringComparer.Ordinal));
        Assert.Equal(weights.Values.Sum(shape => shape.Aggregate(1L, (a, b) => a * b)), tree.ParameterCount);
    }

    /// <summary>Registration order of transformers' modeling_clip.py (CLIPAttention registers k, v, q, out).</summary>
    [Fact]
    public void Tiny_tree_modules_follow_transformers_registration_order()
    {
        var expected = new List<string>
        {
            ": CLIPTextModel",
            "text_model: CLIPTextTransformer",
            "text_model.embeddings: CLIPTextEmbeddings",
            "text_model.embeddings.token_embedding: Embedding",
            "text_model.embeddings.position_embedding: Embedding",
            "text_model.encoder: CLIPEncoder",
            "text_model.encoder.layers: ModuleList",
        };
        foreach (var i in new[] { 0, 1 })
        {
            var layer = $"text_model.encoder.layers.{i}";
            expected.AddRange(
            [
                $"{layer}: CLIPEncoderLayer",
                $"{layer}.self_attn: CLIPAttention",
                $"{layer}.self_attn.k_proj: Linear",
                $"{layer}.self_attn.v_proj: Linear",
                $"{layer}.self_attn.q_proj: Linear",
                $"{layer}.self_attn.out_proj: Linear",
                $"{layer}.layer_norm1: LayerNorm",
                $"{layer}.mlp: CLIPMLP",
                $"{layer}.mlp.activation_fn: QuickGELUActivation",
                $"{layer}.mlp.fc1: Linear",
                $"{layer}.mlp.fc2: Linear",
                $"{layer}.layer_norm2: LayerNorm",
            ]);
        }
        expected.Add("text_model.final_layer_norm: LayerNorm");

        Assert.Equal(expected, Tiny().BuildTree().Modules.Select(m => $"{m.Path}: {m.ClassName}"));
    }

    [Fact]
    public void Tiny_tree_options_hold_the_layer_hyper_parameters()
    {
        var tree = Tiny().BuildTree();
        var attention = tree.Find("text_model.encoder.layers.1.self_attn");
        var fc1 = tree.Find("text_model.encoder.layers.1.mlp.fc1");
        var norm = tree.Find("text_model.final_layer_norm");
        var tokens = tree.Find("text_model.embeddings.token_embedding");

        Assert.Equal((32L, 2L, 16L, 0.25, 0.0), (attention.Options.GetInt("embed_dim"), attention.Options.GetInt("num_heads"),
            attention.Options.GetInt("head_dim"), attention.Options.GetDouble("scale"), attention.Options.GetDouble("dropout")));
        Assert.Equal((32L, 37L, true), (fc1.Options.GetInt("in_features"), fc1.Options.GetInt("out_features"), fc1.Options.GetBool("bias")));
        Assert.Equal(1e-5, norm.Options.GetDouble("eps"));
        Assert.Equal([32L], norm.Options.GetIntList("normalized_shape"));
        Assert.Equal((49408L, 32L), (tokens.Options.GetInt("num_embeddings"), tokens.Options.GetInt("embedding_dim")));
    }

    [Fact]
    public void With_projection_adds_a_bias_free_text_projection_after_text_model()
    {
        var json = File.ReadAllText(Fixtures.PathOf("clip-text-tiny", "config.json"))
            .Replace("\"CLIPTextModel\"", "\"CLIPTextModelWithProjection\"")
            .Replace("\"projection_dim\": 32", "\"projection_dim\": 24");
        var tree = ArchitectureDescription.Parse(json, "text_encoder_2/config.json").BuildTree();

        Assert.Equal("CLIPTextModelWithProjection", tree.ClassName);
        Assert.Equal(["text_model", "text_projection"], tree.Root.Children.Select(c => c.Name));
        Assert.Equal("text_projection.weight [24, 32]", tree.Parameters[^1].ToString());
        Assert.Equal(37, tree.Parameters.Count);
        Assert.False(tree.Find("text_projection").Options.GetBool("bias"));
    }

    [Fact]
    public void Gelu_hidden_act_uses_gelu_activation()
    {
        var tree = ClipTextArchitecture.Build(new ClipTextConfig { HiddenSize = 8, NumAttentionHeads = 2, NumHiddenLayers = 1, IntermediateSize = 16, HiddenAct = "gelu" });

        Assert.Equal("GELUActivation", tree.Find("text_model.encoder.layers.0.mlp.activation_fn").ClassName);
    }

    /// <summary>Published sizes: SD 1.x text encoder (CLIP ViT-L/14) 123,060,480; SDXL text_encoder_2 (OpenCLIP bigG) 694,659,840.</summary>
    [Fact]
    public void Stable_diffusion_text_encoders_have_their_published_parameter_counts()
    {
        var sd15 = ArchitectureDescription.Parse(
            """
            { "architectures": ["CLIPTextModel"], "hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12,
              "num_hidden_layers": 12, "projection_dim": 768, "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1 }
            """, "sd15/text_encoder/config.json");
        var sdxl = ArchitectureDescription.Parse(
            """
            { "architectures": ["CLIPTextModelWithProjection"], "hidden_act": "gelu", "hidden_size": 1280, "intermediate_size": 5120,
              "num_attention_heads": 20, "num_hidden_layers": 32, "projection_dim": 1280 }
            """, "sdxl/text_encoder_2/config.json");

        Assert.Equal(123_060_480L, sd15.BuildTree().ParameterCount);
        Assert.Equal(694_659_840L, sdxl.BuildTree().ParameterCount);
    }

    [Fact]
    public void Missing_keys_take_the_transformers_clip_text_config_defaults()
    {
        var config = ArchitectureDescription.Parse<ClipTextConfig>("""{ "architectures": ["CLIPTextModel"] }""", "config.json");

        Assert.Equal((49408, 512, 2048, 512), (config.VocabSize, config.HiddenSize, config.IntermediateSize, config.ProjectionDim));
        Assert.Equal((12, 8, 77), (config.NumHiddenLayers, config.NumAttentionHeads, config.MaxPositionEmbeddings));
        Assert.Equal(("quick_gelu", 1e-5), (config.HiddenAct, config.LayerNormEps));
        Assert.Equal((1, 49406, 49407), (config.PadTokenId, config.BosTokenId, config.EosTokenId));
    }
}
