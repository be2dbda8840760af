using Peft.Typed.Architecture.Configs;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Unet;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Unet;

/// <summary>
/// SDXL's "text_time" added conditioning on a tiny SDXL-shaped UNet (random weights, linear projections, per-block head
/// counts and transformer depths): the inputs it needs, and that each batch item is conditioned on its own row.
/// </summary>
public class UnetSdxlConditioningTests
{
    private const int TextEmbedsDim = 16;
    private const int TimeEmbedDim = 8;

    private static readonly Lazy<UNet2DConditionModel> Model = new(() =>
    {
        manual_seed(7);
        var model = new UNet2DConditionModel(new UNet2DConditionConfig
        {
            BlockOutChannels = [32, 64],
            DownBlockTypes = ["DownBlock2D", "CrossAttnDownBlock2D"],
            UpBlockTypes = ["CrossAttnUpBlock2D", "UpBlock2D"],
            LayersPerBlock = 1,
            AttentionHeadDim = ScalarOrList<int>.List([2, 4]),
            TransformerLayersPerBlock = ScalarOrList<int>.List([1, 2]),
            CrossAttentionDim = 24,
            UseLinearProjection = true,
            AdditionEmbedType = "text_time",
            AdditionTimeEmbedDim = TimeEmbedDim,
            ProjectionClassEmbeddingsInputDim = TextEmbedsDim + 6 * TimeEmbedDim,
        });
        model.eval();
        return model;
    });

    [Fact]
    public void Each_batch_item_is_conditioned_on_its_own_text_embeds_and_time_ids()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sample = randn(2, 4, 8, 8);
        var context = randn(2, 5, 24);
        var textEmbeds = randn(2, TextEmbedsDim);
        var timeIds = tensor(new float[,] { { 1024, 1024, 0, 0, 1024, 1024 }, { 512, 768, 16, 32, 1024, 1024 } });
        var both = Model.Value.call(new UNet2DConditionInput(sample, tensor(new long[] { 10, 900 }), context) { TextEmbeds = textEmbeds, TimeIds = timeIds });

        for (int b = 0; b < 2; b++)
        {
            var single = Model.Value.call(new UNet2DConditionInput(sample[b..(b + 1)], tensor(b == 0 ? 10L : 900L), context[b..(b + 1)])
            {
                TextEmbeds = textEmbeds[b..(b + 1)],
                TimeIds = timeIds[b..(b + 1)],
            });
            Support.Compare.Close(single, both[b..(b + 1)], 1e-5, what: $"batch item {b}");
        }
    }

    [Fact]
    public void Time_ids_and_text_embeds_both_change_the_prediction()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sample = randn(1, 4, 8, 8);
        var context = randn(1, 5, 24);
        var textEmbeds = randn(1, TextEmbedsDim);
        var timeIds = tensor(new float[,] { { 1024, 1024, 0, 0, 1024, 1024 } });
        UNet2DConditionInput Input(Tensor embeds, Tensor ids) => new(sample, tensor(500L), context) { TextEmbeds = embeds, TimeIds = ids };

        var reference = Model.Value.call(Input(textEmbeds, timeIds));
        var otherTime = Model.Value.call(Input(textEmbeds, timeIds.Mul(0.5)));
        var otherText = Model.Value.call(Input(textEmbeds.Add(1), timeIds));
        Assert.True((reference - otherTime).abs().max().item<float>() > 1e-3);
        Assert.True((reference - otherText).abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void Missing_added_conditions_are_rejected()
    {
        using var scope = NewDisposeScope();
        var input = new UNet2DConditionInput(randn(1, 4, 8, 8), tensor(1L), randn(1, 5, 24)) { TextEmbeds = randn(1, TextEmbedsDim) };
        var error = Assert.Throws<ArgumentException>(() => Model.Value.call(input));
        Assert.StartsWith("This UNet has an add_embedding (SDXL text_time conditioning): set TextEmbeds and TimeIds on the input.", error.Message);
    }
}
