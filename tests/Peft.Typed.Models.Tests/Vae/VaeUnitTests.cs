using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Tests.Support;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Vae;

/// <summary>The single-module cases of vae-tiny/units.safetensors (max abs diff &lt;= 1e-4; one ill-conditioned case 2e-4).</summary>
public class VaeUnitTests
{
    private const double Tolerance = 1e-4;
    private const double IllConditionedTolerance = 2e-4;

    private static readonly ModuleFixture Vae = new("vae-tiny");

    [Theory]
    [InlineData("even")]
    [InlineData("odd")]
    public void Encoder_downsampler_pads_right_and_bottom(string tag)
    {
        using var scope = NewDisposeScope();
        const string path = "encoder.down_blocks.0.downsamplers.0";
        var module = Vae.Build(path, (node, layers) => new Downsample2D(node, layers));
        Check(path, tag, module.call(Vae.Unit(path, tag, "in.hidden_states")));
    }

    // Per-channel variance 1e-6 (= eps): the GroupNorm scale is ~700, so float32 rounding of scale * x + bias shows
    // above 1e-4 (torch's own float64 forward is 1.02e-4 from the reference); fixtures README: tolerance 2e-4.
    [Fact]
    public void Resnet_without_time_embedding_matches_at_low_variance()
    {
        using var scope = NewDisposeScope();
        const string path = "encoder.down_blocks.1.resnets.0";
        var module = Vae.Build(path, (node, layers) => new ResnetBlock2D(node, layers));
        Check(path, "lowvar", module.call(Vae.Unit(path, "lowvar", "in.hidden_states"), null), IllConditionedTolerance);
    }

    [Theory]
    [InlineData("encoder.mid_block.attentions.0", "lowvar")]
    [InlineData("decoder.mid_block.attentions.0", "a")]
    public void Single_head_mid_block_attention_matches(string path, string tag)
    {
        using var scope = NewDisposeScope();
        var module = Vae.Build(path, (node, layers) => new Attention(node, layers));
        Check(path, tag, module.forward(Vae.Unit(path, tag, "in.hidden_states")));
    }

    [Fact]
    public void Decoder_upsampler_matches()
    {
        using var scope = NewDisposeScope();
        const string path = "decoder.up_blocks.0.upsamplers.0";
        var module = Vae.Build(path, (node, layers) => new Upsample2D(node, layers));
        Check(path, "a", module.forward(Vae.Unit(path, "a", "in.hidden_states")));
    }

    private static void Check(string path, string tag, Tensor actual, double tolerance = Tolerance) =>
        Compare.Close(Vae.Unit(path, tag, "out"), actual, tolerance, what: $"{path}/{tag}");
}
