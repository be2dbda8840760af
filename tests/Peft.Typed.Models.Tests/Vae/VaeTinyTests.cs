using Peft.Typed.Models.Loading;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Tests.Support;
using Peft.Typed.Models.Vae;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Vae;

/// <summary>The tiny VAE end to end against vae-tiny (max abs diff &lt;= 1e-4), its names, and legacy attention key names.</summary>
public class VaeTinyTests
{
    private const double Tolerance = 1e-4;

    private static string WeightsPath => Fixtures.PathOf("vae-tiny", "diffusion_pytorch_model.safetensors");

    private static readonly Lazy<AutoencoderKL> Model = new(() => AutoencoderKL.FromPretrained(Fixtures.PathOf("vae-tiny")));

    [Theory]
    [InlineData("case.safetensors")]
    [InlineData("case-lowvar.safetensors")]
    public void Encode_sample_and_decode_match_the_reference(string file)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var data = SafetensorsFile.LoadAll(Fixtures.PathOf("vae-tiny", file));
        var posterior = Model.Value.Encode(data["input.image"]);
        Compare.Close(data["output.posterior_mean"], posterior.Mean, Tolerance, what: "mean");
        Compare.Close(data["output.posterior_logvar"], posterior.LogVar, Tolerance, what: "logvar");
        Compare.Close(data["output.posterior_std"], posterior.Std, Tolerance, what: "std");
        Compare.Close(data["output.posterior_sample"], posterior.Sample(data["input.posterior_noise"]), Tolerance, what: "sample");
        Compare.Close(data["output.decode_sample"], Model.Value.Decode(posterior.Mean), Tolerance, what: "decode");
        Compare.Close(data["output.decode_sample"], Model.Value.call(data["input.image"]), Tolerance, what: "forward");
    }

    [Fact]
    public void Every_intermediate_matches_the_reference()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var data = SafetensorsFile.LoadAll(Fixtures.PathOf("vae-tiny", "case.safetensors"));
        var expected = SafetensorsFile.LoadAll(Fixtures.PathOf("vae-tiny", "intermediates.safetensors"));
        using var recorder = new IntermediateRecorder(Model.Value, expected);
        Model.Value.call(data["input.image"]);

        Assert.Equal(expected.Keys.Order(), recorder.Differences.Keys.Order());
        var failing = recorder.Differences.Where(d => !(d.Value <= Tolerance)).Select(d => $"{d.Key}: {d.Value:E2}").ToList();
        Assert.True(failing.Count == 0, "Intermediates off by more than 1e-4: " + string.Join("; ", failing));
    }

    [Fact]
    public void Parameter_names_and_shapes_equal_parameters_json() =>
        Assert.Equal(FixtureListings.Parameters(Fixtures.PathOf("vae-tiny", "parameters.json")), FixtureListings.Parameters(Model.Value));

    [Fact]
    public void Module_paths_and_classes_equal_modules_json() =>
        Assert.Equal(FixtureListings.Modules(Fixtures.PathOf("vae-tiny", "modules.json")), FixtureListings.Modules(Model.Value));

    [Theory]
    [InlineData("encoder.mid_block.attentions.0.query.weight", "encoder.mid_block.attentions.0.to_q.weight")]
    [InlineData("encoder.mid_block.attentions.0.key.bias", "encoder.mid_block.attentions.0.to_k.bias")]
    [InlineData("decoder.mid_block.attentions.0.value.weight", "decoder.mid_block.attentions.0.to_v.weight")]
    [InlineData("decoder.mid_block.attentions.0.proj_attn.bias", "decoder.mid_block.attentions.0.to_out.0.bias")]
    [InlineData("decoder.mid_block.attentions.0.to_q.weight", "decoder.mid_block.attentions.0.to_q.weight")]
    [InlineData("encoder.conv_in.weight", "encoder.conv_in.weight")]
    public void Legacy_attention_keys_map_to_current_names(string legacy, string current) =>
        Assert.Equal(current, AutoencoderKL.MapLegacyKey(legacy));

    [Fact]
    public void A_checkpoint_with_legacy_attention_names_loads_to_the_same_output()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var directory = Directory.CreateTempSubdirectory("vae-legacy-");
        try
        {
            var renames = new Dictionary<string, string> { ["to_q"] = "query", ["to_k"] = "key", ["to_v"] = "value", ["to_out.0"] = "proj_attn" };
            var tensors = SafetensorsFile.LoadAll(WeightsPath).Select(e => KeyValuePair.Create(
                renames.Aggregate(e.Key, (key, r) => key.Replace($".attentions.0.{r.Key}.", $".attentions.0.{r.Value}.")), e.Value)).ToList();
            Assert.Contains(tensors, t => t.Key == "decoder.mid_block.attentions.0.proj_attn.weight");
            var legacyPath = Path.Combine(directory.FullName, "diffusion_pytorch_model.safetensors");
            SafetensorsWriter.Save(legacyPath, tensors);

            using var model = new AutoencoderKL(Model.Value.Config);
            var report = model.LoadWeights(legacyPath);
            Assert.True(report.IsExact);
            var data = SafetensorsFile.LoadAll(Fixtures.PathOf("vae-tiny", "case.safetensors"));
            Compare.Close(data["output.decode_sample"], model.call(data["input.image"]), Tolerance, what: "legacy names");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
