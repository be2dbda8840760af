using Peft.Typed.Models.Clip;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Unet;
using Peft.Typed.Models.Vae;
using Peft.Typed.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Runtime;

/// <summary>
/// Models convert to other dtypes and keep their parameters whatever dispose scope they were built in. The half-precision
/// bounds check the dtype plumbing, not the float32 fixtures' numerics: fp16 keeps ~3 significant digits, bf16 ~2.
/// </summary>
public class DtypeAndLifetimeTests
{
    [Theory]
    [InlineData(ScalarType.Float16, 0.01)]
    [InlineData(ScalarType.BFloat16, 0.05)]
    public void The_tiny_unet_converted_to_half_precision_stays_close_to_the_float32_reference(ScalarType dtype, double bound)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var model = UNet2DConditionModel.FromPretrained(Fixtures.PathOf("unet-tiny"));
        model.to(dtype);
        Assert.All(model.parameters(), p => Assert.Equal(dtype, p.dtype));

        var data = SafetensorsFile.LoadAll(Fixtures.PathOf("unet-tiny", "case.safetensors"));
        var output = model.call(new UNet2DConditionInput(data["input.sample"].to_type(dtype), data["input.timestep"], data["input.encoder_hidden_states"].to_type(dtype)));

        Assert.Equal(dtype, output.dtype);
        Assert.InRange(RelativeError(output, data["output.sample"]), 0, bound);
    }

    [Theory]
    [InlineData(ScalarType.Float16, 0.01)]
    [InlineData(ScalarType.BFloat16, 0.05)]
    public void The_tiny_vae_loaded_in_half_precision_encodes_and_decodes(ScalarType dtype, double bound)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var model = AutoencoderKL.FromPretrained(Fixtures.PathOf("vae-tiny"), dtype);
        var data = SafetensorsFile.LoadAll(Fixtures.PathOf("vae-tiny", "case.safetensors"));
        var posterior = model.Encode(data["input.image"].to_type(dtype));
        var decoded = model.Decode(data["output.posterior_mean"].to_type(dtype));

        Assert.Equal(dtype, decoded.dtype);
        Assert.InRange(RelativeError(posterior.Mean, data["output.posterior_mean"]), 0, bound);
        Assert.InRange(RelativeError(decoded, data["output.decode_sample"]), 0, bound);
    }

    [Fact]
    public void The_tiny_text_encoder_loaded_as_bfloat16_stays_close_to_the_reference()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var model = CLIPTextModel.FromPretrained(Fixtures.PathOf("clip-text-tiny"), ScalarType.BFloat16);
        var data = SafetensorsFile.LoadAll(Fixtures.PathOf("clip-text-tiny", "case.safetensors"));
        var output = model.call(data["input_ids"]);

        Assert.Equal(ScalarType.BFloat16, output.LastHiddenState.dtype);
        Assert.InRange(RelativeError(output.LastHiddenState, data["last_hidden_state"]), 0, 0.05);
        Assert.InRange(RelativeError(output.PooledOutput, data["pooled_output"]), 0, 0.05);
    }

    [Fact]
    public void Models_built_inside_a_dispose_scope_keep_their_parameters()
    {
        UNet2DConditionModel unet;
        AutoencoderKL vae;
        CLIPTextModel clip;
        using (NewDisposeScope())
        {
            unet = UNet2DConditionModel.FromPretrained(Fixtures.PathOf("unet-tiny"));
            vae = AutoencoderKL.FromPretrained(Fixtures.PathOf("vae-tiny"));
            clip = CLIPTextModel.FromPretrained(Fixtures.PathOf("clip-text-tiny"));
        }
        using (unet)
        using (vae)
        using (clip)
        {
            Assert.Equal(304, unet.parameters().Count(p => !p.IsInvalid));
            Assert.Equal(156, vae.parameters().Count(p => !p.IsInvalid));
            Assert.Equal(36, clip.parameters().Count(p => !p.IsInvalid));
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            Assert.Equal([1, 77, 32], clip.call(zeros(1, 77, dtype: ScalarType.Int64)).LastHiddenState.shape);
        }
    }

    private static double RelativeError(Tensor actual, Tensor expected) =>
        (actual.to_type(ScalarType.Float32) - expected).abs().max().item<float>() / (double)expected.abs().max().item<float>();
}
