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
/// bounds check the dtype plumbing, not the float32 fixtures' numerics. (bf16 UNet/VAE runs on CPU are not checked here:
/// libtorch's CPU bf16 conv2d with fewer than 16 output channels, e.g. conv_out, is off by ~25% on its own.)
/// </summary>
public class DtypeAndLifetimeTests
{
    [Fact]
    public void The_tiny_unet_converted_to_float16_stays_close_to_the_float32_reference()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var model = UNet2DConditionModel.FromPretrained(Fixtures.PathOf("unet-tiny"));
        model.to(ScalarType.Float16);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float16, p.dtype));

        var data = SafetensorsFile.LoadAll(Fixtures.PathOf("unet-tiny", "case.safetensors"));
        var output = model.call(new UNet2DConditionInput(
            data["input.sample"].to_type(ScalarType.Float16), data["input.timestep"], data["input.encoder_hidden_states"].to_type(ScalarType.Float16)));

        Assert.Equal(ScalarType.Float16, output.dtype);
        Assert.InRange(RelativeError(output, data["output.sample"]), 0, 0.01);
    }

    [Fact]
    public void The_tiny_vae_loaded_as_float16_encodes_and_decodes()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var model = AutoencoderKL.FromPretrained(Fixtures.PathOf("vae-tiny"), ScalarType.Float16);
        var data = SafetensorsFile.LoadAll(Fixtures.PathOf("vae-tiny", "case.safetensors"));
        var posterior = model.Encode(data["input.image"].to_type(ScalarType.Float16));
        var decoded = model.Decode(data["output.posterior_mean"].to_type(ScalarType.Float16));

        Assert.Equal(ScalarType.Float16, decoded.dtype);
        Assert.InRange(RelativeError(posterior.Mean, data["output.posterior_mean"]), 0, 0.01);
        Assert.InRange(RelativeError(decoded, data["output.decode_sample"]), 0, 0.01);
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
