using System.Text.RegularExpressions;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Models.Tests.Support;
using Peft.Typed.Testing;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Clip;

/// <summary>
/// CLIPTextModelWithProjection and checkpoint quirks, from a copy of clip-text-tiny whose config names the projection
/// model and whose checkpoint adds an identity text_projection (so text_embeds must equal the reference pooled output)
/// and the legacy position_ids buffer.
/// </summary>
public class ClipTextWithProjectionTests
{
    private const double Tolerance = 1e-4;

    [Fact]
    public void Text_embeds_are_the_projected_pooled_output_and_position_ids_are_ignored()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var folder = Directory.CreateTempSubdirectory("clip-projection-");
        try
        {
            var config = File.ReadAllText(Fixtures.PathOf("clip-text-tiny", "config.json"));
            File.WriteAllText(Path.Combine(folder.FullName, "config.json"), Regex.Replace(config, "\"CLIPTextModel\"", "\"CLIPTextModelWithProjection\""));
            var tensors = SafetensorsFile.LoadAll(Fixtures.PathOf("clip-text-tiny", "model.safetensors"));
            tensors["text_projection.weight"] = eye(32);
            tensors["text_model.embeddings.position_ids"] = TensorArithmetic.Arange(77L).unsqueeze(0);
            SafetensorsWriter.Save(Path.Combine(folder.FullName, "model.safetensors"), tensors);

            using var model = CLIPTextModelWithProjection.FromPretrained(folder.FullName);
            var data = SafetensorsFile.LoadAll(Fixtures.PathOf("clip-text-tiny", "case.safetensors"));
            var output = model.call(data["input_ids"]);
            Compare.Close(data["pooled_output"], output.TextEmbeds, Tolerance, Tolerance, "text_embeds");
            Compare.Close(data["last_hidden_state"], output.LastHiddenState, Tolerance, Tolerance, "last_hidden_state");
            Compare.Close(data["hidden_states.1"], output.HiddenStates[1], Tolerance, Tolerance, "hidden_states.1");
            Assert.Equal(["text_projection.weight"], model.named_parameters().Select(p => p.name).Where(n => !n.StartsWith("text_model.", StringComparison.Ordinal)));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_plain_text_model_config_is_refused()
    {
        var config = Models.Loading.PretrainedFolder.ReadConfig<Architecture.Configs.ClipTextConfig>(Fixtures.PathOf("clip-text-tiny"));
        var error = Assert.Throws<ArgumentException>(() => new CLIPTextModelWithProjection(config));
        Assert.StartsWith("The config describes CLIPTextModel (no text_projection); build that class instead.", error.Message);
    }
}
