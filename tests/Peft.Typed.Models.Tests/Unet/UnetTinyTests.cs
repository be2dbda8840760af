using Peft.Typed.Models.Tests.Support;
using Peft.Typed.Models.Unet;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Unet;

/// <summary>The tiny UNet end to end against unet-tiny (max abs diff &lt;= 1e-4), and its names against the fixture listings.</summary>
public class UnetTinyTests
{
    private const double Tolerance = 1e-4;

    private static readonly Lazy<UNet2DConditionModel> Model = new(() => UNet2DConditionModel.FromPretrained(Fixtures.PathOf("unet-tiny")));

    private static readonly Lazy<Dictionary<string, Tensor>> Case = new(() => ModuleFixture.LoadShared(Fixtures.PathOf("unet-tiny", "case.safetensors")));

    [Theory]
    [InlineData("case.safetensors")]
    [InlineData("case-lowvar.safetensors")]
    public void Forward_matches_the_reference(string file)
    {
        using var scope = NewDisposeScope();
        var data = SafetensorsFileLoad(file);
        using var noGrad = no_grad();
        var output = Model.Value.call(new UNet2DConditionInput(data["input.sample"], data["input.timestep"], data["input.encoder_hidden_states"]));
        Compare.Close(data["output.sample"], output, Tolerance, what: file);
    }

    [Fact]
    public void Every_intermediate_matches_the_reference()
    {
        using var scope = NewDisposeScope();
        var expected = SafetensorsFileLoad("intermediates.safetensors");
        using var recorder = new IntermediateRecorder(Model.Value, expected);
        using (no_grad()) Model.Value.call(new UNet2DConditionInput(Case.Value["input.sample"], Case.Value["input.timestep"], Case.Value["input.encoder_hidden_states"]));

        Assert.Equal(expected.Keys.Order(), recorder.Differences.Keys.Order());
        var failing = recorder.Differences.Where(d => !(d.Value <= Tolerance)).Select(d => $"{d.Key}: {d.Value:E2}").ToList();
        Assert.True(failing.Count == 0, "Intermediates off by more than 1e-4: " + string.Join("; ", failing));
    }

    [Fact]
    public void Float_timesteps_give_the_integer_result()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var timestep = Case.Value["input.timestep"].to_type(ScalarType.Float32);
        var output = Model.Value.call(new UNet2DConditionInput(Case.Value["input.sample"], timestep, Case.Value["input.encoder_hidden_states"]));
        Compare.Close(Case.Value["output.sample"], output, Tolerance, what: "float timesteps");
    }

    [Fact]
    public void A_scalar_timestep_is_broadcast_to_the_batch()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // Batch item 1 of the case has timestep 500; repeat it twice with one 0-d timestep.
        var sample = Case.Value["input.sample"][1..2].expand(2, -1, -1, -1);
        var context = Case.Value["input.encoder_hidden_states"][1..2].expand(2, -1, -1);
        var output = Model.Value.call(new UNet2DConditionInput(sample, tensor(500L), context));
        var expected = Case.Value["output.sample"][1..2].expand(2, -1, -1, -1);
        Compare.Close(expected, output, Tolerance, what: "scalar timestep");
    }

    [Fact]
    public void A_timestep_of_the_wrong_length_is_rejected()
    {
        using var scope = NewDisposeScope();
        var input = new UNet2DConditionInput(Case.Value["input.sample"], tensor(new long[] { 1, 2, 3 }), Case.Value["input.encoder_hidden_states"]);
        var error = Assert.Throws<ArgumentException>(() => Model.Value.call(input));
        Assert.StartsWith("timestep must be a scalar or have shape [2] (the batch size), got [3].", error.Message);
    }

    [Theory]
    [InlineData(15, 13)]
    [InlineData(18, 10)]
    public void Odd_sizes_upsample_to_the_skip_sizes(long height, long width)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sample = randn(1, 4, height, width);
        var output = Model.Value.call(new UNet2DConditionInput(sample, tensor(10L), randn(1, 5, 32)));
        Assert.Equal([1, 4, height, width], output.shape);
    }

    [Fact]
    public void Parameter_names_and_shapes_equal_parameters_json() =>
        Assert.Equal(FixtureListings.Parameters(Fixtures.PathOf("unet-tiny", "parameters.json")), FixtureListings.Parameters(Model.Value));

    [Fact]
    public void Module_paths_and_classes_equal_modules_json() =>
        Assert.Equal(FixtureListings.Modules(Fixtures.PathOf("unet-tiny", "modules.json")), FixtureListings.Modules(Model.Value));



    private static Dictionary<string, Tensor> SafetensorsFileLoad(string file) => Models.SafeTensors.SafetensorsFile.LoadAll(Fixtures.PathOf("unet-tiny", file));
}
