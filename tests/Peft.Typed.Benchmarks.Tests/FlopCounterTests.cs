using Peft.Typed.Architecture.Tree;
using Peft.Typed.Benchmarks.Flops;
using Peft.Typed.Benchmarks.Models;
using Peft.Typed.Models.Clip;
using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Unet;
using Peft.Typed.Testing;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Tests;

/// <summary>The FLOP formulas on hand-computed cases, and the counter's hooks on single modules of the tiny UNet and CLIP.</summary>
public class FlopCounterTests
{
    private static readonly Lazy<UNet2DConditionModel> Unet = new(() => UNet2DConditionModel.FromPretrained(Fixtures.PathOf("unet-tiny")));

    [Fact]
    public void A_convolution_costs_two_flops_per_weight_tap_per_output_element()
    {
        // 3x3 conv, 3 -> 8 channels, on 2 images of 16x16 with padding 1: 2 * (2*8*16*16 outputs) * (3*3*3 taps).
        Assert.Equal(2.0 * 4096 * 27, FlopFormulas.Conv2d(batch: 2, inChannels: 3, outChannels: 8, kernelHeight: 3, kernelWidth: 3, outHeight: 16, outWidth: 16));
        // Grouped: each output sees in/groups channels.
        Assert.Equal(2.0 * 1 * 4 * 2 * 2 * (8 / 4) * 1 * 1, FlopFormulas.Conv2d(1, 8, 4, 1, 1, 2, 2, groups: 4));
    }

    [Fact]
    public void A_linear_layer_costs_two_flops_per_weight_per_row()
    {
        // [2, 5, 7] -> 11 features: 10 rows of 7*11 multiply-adds.
        Assert.Equal(2.0 * 10 * 7 * 11, FlopFormulas.Linear(rows: 10, inFeatures: 7, outFeatures: 11));
        Assert.Equal(2.0 * 2048 * 2048 * 2048, FlopFormulas.MatMul(2048, 2048, 2048));
    }

    [Fact]
    public void Attention_costs_the_score_and_value_products()
    {
        // 2 x 16 queries against 7 keys, 64 wide: QK^T and softmax*V are 2*2*16*7*64 each.
        Assert.Equal(2 * (2.0 * 2 * 16 * 7 * 64), FlopFormulas.Attention(batch: 2, queries: 16, keys: 7, innerDim: 64));
    }

    [Fact]
    public void A_layers_backward_costs_one_forward_product_per_gradient_it_needs()
    {
        Assert.Equal(0, FlopFormulas.LayerBackward(100, inputGradient: false, weightGradient: false));
        Assert.Equal(100, FlopFormulas.LayerBackward(100, inputGradient: true, weightGradient: false));
        Assert.Equal(200, FlopFormulas.LayerBackward(100, inputGradient: true, weightGradient: true));
    }

    [Fact]
    public void Attention_backward_costs_the_products_its_gradients_need()
    {
        // Each product is 2*2*16*7*64. Q, K and V: dP, dV, dQ, dK. Q alone (K, V from a frozen context): dP, dQ. V alone: dV.
        double product = 2.0 * 2 * 16 * 7 * 64;
        Assert.Equal(4 * product, FlopFormulas.AttentionBackward(2, 16, 7, 64, queryGradient: true, keyGradient: true, valueGradient: true));
        Assert.Equal(2 * product, FlopFormulas.AttentionBackward(2, 16, 7, 64, queryGradient: true, keyGradient: false, valueGradient: false));
        Assert.Equal(3 * product, FlopFormulas.AttentionBackward(2, 16, 7, 64, queryGradient: true, keyGradient: true, valueGradient: false));
        Assert.Equal(product, FlopFormulas.AttentionBackward(2, 16, 7, 64, queryGradient: false, keyGradient: false, valueGradient: true));
        Assert.Equal(0, FlopFormulas.AttentionBackward(2, 16, 7, 64, queryGradient: false, keyGradient: false, valueGradient: false));
    }

    [Fact]
    public void The_backward_of_a_frozen_cross_attention_follows_what_needs_gradients()
    {
        using var unet = UNet2DConditionModel.FromPretrained(Fixtures.PathOf("unet-tiny"));
        foreach (var parameter in unet.parameters()) parameter.requires_grad = false;
        var attention = (Attention)unet.named_modules().Single(m => m.name == "down_blocks.1.attentions.0.transformer_blocks.0.attn2").module;
        using var scope = NewDisposeScope();
        var hidden = randn(2, 16, 64).requires_grad_();
        var context = randn(2, 7, 32);

        // Frozen weights, a context without gradient: to_k and to_v need no backward, K and V no gradient.
        var counter = FlopCounter.Count(unet, unet.Tree, () => attention.call(hidden, context));
        Assert.Equal(2 * FlopFormulas.Linear(32, 64, 64) /* to_q, to_out.0 */, counter.BackwardByKind["Linear"]);
        // dP and dQ: as many products as the forward's two.
        Assert.Equal(FlopFormulas.Attention(2, 16, 7, 64), counter.BackwardByKind["Attention"]);

        // A context that needs a gradient: every projection and Q, K, V.
        counter = FlopCounter.Count(unet, unet.Tree, () => attention.call(hidden, context.requires_grad_()));
        Assert.Equal(counter.ByKind["Linear"], counter.BackwardByKind["Linear"]);
        Assert.Equal(2 * counter.ByKind["Attention"], counter.BackwardByKind["Attention"]);
    }

    [Fact]
    public void A_trained_weight_adds_its_gradient_and_no_grad_has_no_backward()
    {
        using var unet = UNet2DConditionModel.FromPretrained(Fixtures.PathOf("unet-tiny"));
        var conv = (nn.Module<Tensor, Tensor>)unet.named_modules().Single(m => m.name == "conv_in").module;
        using var scope = NewDisposeScope();
        var input = randn(1, 4, 8, 8);
        double forward = FlopFormulas.Conv2d(1, 4, 32, 3, 3, 8, 8);

        // The weight trains (a fresh model's parameters need gradients), the input does not: the weight gradient only.
        Assert.Equal(forward, FlopCounter.Count(unet, unet.Tree, () => conv.call(input)).BackwardByKind["Conv2d"]);
        Assert.Equal(2 * forward, FlopCounter.Count(unet, unet.Tree, () => conv.call(input.requires_grad_())).BackwardByKind["Conv2d"]);
        using (no_grad())
            Assert.Equal(0, FlopCounter.Count(unet, unet.Tree, () => conv.call(input)).BackwardByKind["Conv2d"]);
    }

    [Fact]
    public void The_counter_sees_the_real_shapes_of_a_strided_convolution()
    {
        // down_blocks.0.downsamplers.0.conv: 32 -> 32, 3x3, stride 2, padding 1.
        var tree = Unet.Value.Tree;
        var conv = (nn.Module<Tensor, Tensor>)Unet.Value.named_modules().Single(m => m.name == "down_blocks.0.downsamplers.0.conv").module;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = randn(2, 32, 9, 8);
        var counter = FlopCounter.Count(Unet.Value, tree, () => conv.call(input));
        Assert.Equal(FlopFormulas.Conv2d(2, 32, 32, 3, 3, outHeight: 5, outWidth: 4), counter.Total);
        Assert.Equal(["Conv2d"], counter.ByKind.Keys);
    }

    [Fact]
    public void The_counter_adds_projections_and_attention_products_of_a_cross_attention()
    {
        var attention = (Attention)Unet.Value.named_modules().Single(m => m.name == "down_blocks.1.attentions.0.transformer_blocks.0.attn2").module;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var counter = FlopCounter.Count(Unet.Value, Unet.Value.Tree, () => attention.call(randn(2, 16, 64), randn(2, 7, 32)));

        double projections = FlopFormulas.Linear(32, 64, 64) /* to_q */ + 2 * FlopFormulas.Linear(14, 32, 64) /* to_k, to_v */ + FlopFormulas.Linear(32, 64, 64) /* to_out.0 */;
        Assert.Equal(projections, counter.ByKind["Linear"]);
        Assert.Equal(FlopFormulas.Attention(2, 16, 7, 64), counter.ByKind["Attention"]);
    }

    [Fact]
    public void The_tiny_clip_encoder_is_counted_layer_by_layer()
    {
        using var clip = CLIPTextModel.FromPretrained(Fixtures.PathOf("clip-text-tiny"));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var counter = FlopCounter.Count(clip, clip.Tree, () => clip.call(zeros([2, 77], ScalarType.Int64)));

        // Per layer: q, k, v, out projections (32 -> 32), fc1 (32 -> 37), fc2 (37 -> 32) on 154 rows; attention 77 x 77 x 32.
        double perLayer = 4 * FlopFormulas.Linear(154, 32, 32) + 2 * FlopFormulas.Linear(154, 32, 37);
        Assert.Equal(2 * perLayer, counter.ByKind["Linear"]);
        Assert.Equal(2 * FlopFormulas.Attention(2, 77, 77, 32), counter.ByKind["Attention"]);
    }

    [Fact]
    public void Hooks_are_removed_after_counting()
    {
        var conv = (nn.Module<Tensor, Tensor>)Unet.Value.named_modules().Single(m => m.name == "conv_in").module;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var counter = FlopCounter.Count(Unet.Value, Unet.Value.Tree, () => conv.call(randn(1, 4, 8, 8)));
        conv.call(randn(1, 4, 8, 8));
        Assert.Equal(FlopFormulas.Conv2d(1, 4, 32, 3, 3, 8, 8), counter.Total);
    }

    [Fact]
    public void Benchmark_flops_cover_every_benchmark_method()
    {
        var methods = typeof(ModelBenchmarks).GetMethods().Where(m => m.GetCustomAttributes(typeof(BenchmarkDotNet.Attributes.BenchmarkAttribute), false).Length > 0).Select(m => m.Name);
        Assert.Equal(methods.Order(), ModelWorkloads.FlopsPerCall.Keys.Order());
    }

    [Fact]
    public void The_unet_forward_backward_counts_every_gradient_but_the_inputs_that_need_none()
    {
        // Every weight trains, so each layer's backward forms its weight gradient and its input gradient (one product
        // each, as large as its forward) and attention's twice its forward (all of Q, K, V need gradients) — except the
        // input gradients nothing needs: conv_in's (the latents), time_embedding.linear_1's (the sinusoidal timestep
        // features) and each cross-attention's to_k and to_v (the context).
        using var workloads = ModelWorkloads.Create();
        var input = workloads.UnetInput;
        var layers = workloads.Unet.named_modules().ToDictionary(m => m.name, m => m.module);
        var convIn = (Conv2d)layers["conv_in"];
        long batch = input.Sample.shape[0], height = input.Sample.shape[2], width = input.Sample.shape[3];
        double noInputGradient = FlopFormulas.Conv2d(batch, convIn.weight!.shape[1], convIn.weight.shape[0], convIn.weight.shape[2], convIn.weight.shape[3], height, width);
        var timeLinear = (Linear)layers["time_embedding.linear_1"];
        noInputGradient += FlopFormulas.Linear(batch, timeLinear.weight!.shape[1], timeLinear.weight.shape[0]);
        var contextProjections = layers.Where(m => m.Key.EndsWith(".attn2.to_k", StringComparison.Ordinal) || m.Key.EndsWith(".attn2.to_v", StringComparison.Ordinal)).Select(m => (Linear)m.Value).ToList();
        Assert.NotEmpty(contextProjections);
        long contextRows = input.EncoderHiddenStates.shape[0] * input.EncoderHiddenStates.shape[1];
        noInputGradient += contextProjections.Sum(l => FlopFormulas.Linear(contextRows, l.weight!.shape[1], l.weight.shape[0]));

        double forward = ModelWorkloads.FlopsPerCall[nameof(ModelBenchmarks.UnetForward)];
        double expected = 3 * forward - noInputGradient;
        Assert.Equal(expected, ModelWorkloads.FlopsPerCall[nameof(ModelBenchmarks.UnetForwardBackward)], expected * 1e-12);
    }
}
