using Peft.Typed.Architecture.Configs;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Loading;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Tests.Support;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Clip;

/// <summary>The tiny CLIP text encoder against clip-text-tiny/case.safetensors (atol 1e-4, rtol 1e-4).</summary>
public class ClipTextTinyTests
{
    private const double Tolerance = 1e-4;

    private static string Folder => Fixtures.PathOf("clip-text-tiny");

    private static readonly Lazy<Dictionary<string, Tensor>> Case = new(() => ModuleFixture.LoadShared(Fixtures.PathOf("clip-text-tiny", "case.safetensors")));

    private static readonly Lazy<CLIPTextModel> QuickGelu = new(() => CLIPTextModel.FromPretrained(Folder));

    private static readonly Lazy<CLIPTextModel> Gelu = new(() =>
    {
        var config = PretrainedFolder.ReadConfig<ClipTextConfig>(Folder);
        config.HiddenAct = "gelu";
        var model = new CLIPTextModel(config);
        model.LoadWeights(Path.Combine(Folder, "model.safetensors"));
        model.eval();
        return model;
    });

    [Theory]
    [InlineData("", "input_ids")]
    [InlineData("pad0.", "input_ids_pad0")]
    [InlineData("gelu.", "input_ids")]
    [InlineData("gelu.pad0.", "input_ids_pad0")]
    public void Outputs_match_the_reference(string prefix, string ids)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var model = prefix.StartsWith("gelu", StringComparison.Ordinal) ? Gelu.Value : QuickGelu.Value;
        var output = model.call(Case.Value[ids]);

        Assert.Equal(3, output.HiddenStates.Count);
        for (int i = 0; i < 3; i++) Check($"{prefix}hidden_states.{i}", output.HiddenStates[i]);
        Check($"{prefix}last_hidden_state", output.LastHiddenState);
        Check($"{prefix}pooled_output", output.PooledOutput);
        Check($"{prefix}clip_skip_1", model.TextModel.FinalLayerNorm.call(output.HiddenStates[^2]));
    }

    [Fact]
    public void Pooling_takes_the_eos_row_and_positions_up_to_eos_ignore_the_padding()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var padded = QuickGelu.Value.call(Case.Value["input_ids"]);
        var zeroPadded = QuickGelu.Value.call(Case.Value["input_ids_pad0"]);
        var eos = Case.Value["eos_position"].data<long>().ToArray();
        for (int b = 0; b < eos.Length; b++)
        {
            Assert.True(padded.PooledOutput[b].allclose(padded.LastHiddenState[b, eos[b]], rtol: 0, atol: 0), $"row {b}: pooled output is not the eos row");
            Compare.Close(padded.LastHiddenState[b, ..(int)(eos[b] + 1)], zeroPadded.LastHiddenState[b, ..(int)(eos[b] + 1)], 0, what: $"row {b} up to eos");
        }
    }

    [Fact]
    public void A_non_legacy_eos_token_id_pools_at_its_first_occurrence_not_at_the_largest_id()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var config = PretrainedFolder.ReadConfig<ClipTextConfig>(Folder);
        config.EosTokenId = 500;
        using var model = new CLIPTextModel(config);
        model.LoadWeights(Path.Combine(Folder, "model.safetensors"));
        // eos (500) at position 4; the largest id (49407) sits at position 6, where argmax pooling would look.
        var ids = tensor(new long[] { 49406, 320, 1125, 539, 500, 500, 49407, 0 }).unsqueeze(0);
        var output = model.call(ids);
        Assert.True(output.PooledOutput[0].allclose(output.LastHiddenState[0, 4], rtol: 0, atol: 0));
        Assert.False(output.PooledOutput[0].allclose(output.LastHiddenState[0, 6], rtol: 0, atol: 0));
    }

    [Fact]
    public void Legacy_eos_token_id_2_pools_at_the_largest_id()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Assert.Equal(2, QuickGelu.Value.Config.EosTokenId);
        var ids = tensor(new long[] { 49406, 320, 49407, 539, 2, 2, 0, 0 }).unsqueeze(0);
        var output = QuickGelu.Value.call(ids);
        Assert.True(output.PooledOutput[0].allclose(output.LastHiddenState[0, 2], rtol: 0, atol: 0));
    }

    [Fact]
    public void Parameters_are_the_36_checkpoint_tensors()
    {
        using var file = SafetensorsFile.Open(Path.Combine(Folder, "model.safetensors"));
        var expected = file.Tensors.Select(t => (t.Name, string.Join(",", t.Shape))).OrderBy(t => t.Name).ToList();
        var actual = QuickGelu.Value.named_parameters().Select(p => (p.name, string.Join(",", p.parameter.shape))).OrderBy(t => t.name).ToList();
        Assert.Equal(expected, actual);
        Assert.Equal(36, actual.Count);
    }

    [Fact]
    public void Too_many_tokens_are_rejected()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(() => QuickGelu.Value.call(zeros(1, 78, dtype: ScalarType.Int64)));
        Assert.StartsWith("input_ids has 78 tokens; this text encoder takes at most 77 (max_position_embeddings).", error.Message);
    }

    private static void Check(string key, Tensor actual) => Compare.Close(Case.Value[key], actual, Tolerance, Tolerance, key);
}
