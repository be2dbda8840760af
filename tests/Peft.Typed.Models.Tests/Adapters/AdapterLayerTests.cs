using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.LoHa;
using Peft.Typed.Models.Adapters.LoKr;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters;

/// <summary>
/// Single wrapped layers of every geometry: the adapted output must equal the base layer run with W + ΔW, merging
/// must write exactly ΔW, and dropout/initialisation must follow PEFT's train/eval semantics.
/// </summary>
public sealed class AdapterLayerTests
{
    public static TheoryData<string, string> KindsAndGeometries()
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in new[] { "lora", "loha", "loha-tucker", "lokr", "lokr-tucker", "lokr-both" })
        {
            foreach (var geometry in new[] { "linear", "conv3x3-stride2", "conv1x1", "conv5x3-groups2" }) data.Add(kind, geometry);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(KindsAndGeometries))]
    public void Adapted_output_equals_the_base_layer_with_the_delta_weight_added(string kind, string geometry)
    {
        manual_seed(7);
        using var holder = new Holder(BaseLayer(geometry));
        var peft = PeftModel.Create(holder, Config(kind));
        var layer = peft.GetAdapterLayer("layer");
        var input = Input(geometry);
        using var noGrad = no_grad();
        if (kind == "lora" && layer.Geometry.Groups > 1)
        {
            Assert.Throws<NotSupportedException>(() => layer.GetDeltaWeight("default"));
            return;
        }
        var delta = layer.GetDeltaWeight("default");
        Assert.Equal(layer.BaseWeight.shape, delta.shape);
        Assert.True(delta.abs().max().item<float>() > 1e-4, "a random adapter should change the weight");
        var withDelta = Functional(layer, input, layer.BaseWeight.Add(delta));
        var adapted = holder.Run(input);
        TensorAssert.Close(withDelta, adapted, 1e-5, 1e-4, "adapted output");

        var original = layer.BaseWeight.clone();
        peft.MergeAdapter();
        TensorAssert.Close(original.Add(delta), layer.BaseWeight, 0, 0, "merged weight");
        TensorAssert.Close(adapted, holder.Run(input), 1e-5, 1e-4, "merged output");
        peft.UnmergeAdapter();
        TensorAssert.Close(original, layer.BaseWeight, 1e-6, 0, "unmerged weight");
        var expectedBase = layer.BaseLayer.call(input);
        using (peft.DisableAdapter()) TensorAssert.Close(expectedBase, holder.Run(input), 0, 0, "disabled output");
    }

    [Theory]
    [InlineData("linear")]
    [InlineData("conv3x3-stride2")]
    public void Gradients_reach_every_adapter_tensor_and_no_base_tensor(string geometry)
    {
        foreach (var kind in new[] { "lora", "loha-tucker", "lokr-tucker", "lokr-both" })
        {
            manual_seed(3);
            using var holder = new Holder(BaseLayer(geometry));
            var peft = PeftModel.Create(holder, Config(kind));
            holder.Run(Input(geometry)).Pow(2).sum().backward();
            foreach (var (key, tensor) in peft.GetAdapterStateDict())
            {
                Assert.True(tensor.grad is not null && tensor.grad.abs().max().item<float>() > 0, $"{kind}: no gradient for {key}");
            }
            Assert.Null(peft.GetAdapterLayer("layer").BaseWeight.grad);
        }
    }

    [Fact]
    public void Lora_dropout_applies_to_the_lora_branch_only_and_only_while_training()
    {
        manual_seed(1);
        using var holder = new Holder(nn.Linear(16, 8));
        var config = new LoraConfig { R = 4, LoraDropout = 1.0, InitLoraWeights = LoraInit.Random, TargetModules = TargetModules.FromNames("layer") };
        var peft = PeftModel.Create(holder, config);
        var layer = (LoraLayer)peft.GetAdapterLayer("layer");
        var input = randn(5, 16);
        using var noGrad = no_grad();
        var baseOutput = layer.BaseLayer.call(input);
        holder.eval();
        var expected = baseOutput.Add(input.matmul(layer.WeightA("default").t()).matmul(layer.WeightB("default").t()).Mul(layer.Scaling("default")));
        TensorAssert.Close(expected, holder.Run(input), 1e-5, 1e-4, "eval: dropout off");
        holder.train();
        TensorAssert.Close(baseOutput, holder.Run(input), 0, 0, "train: p = 1 drops the whole branch");
    }

    [Fact]
    public void Module_dropout_skips_the_adapter_while_training_and_merging_ignores_rank_dropout()
    {
        manual_seed(2);
        using var holder = new Holder(nn.Linear(12, 10));
        var peft = PeftModel.Create(holder, new LoHaConfig { R = 3, ModuleDropout = 1.0, RankDropout = 0.5, InitWeights = false, TargetModules = TargetModules.FromNames("layer") });
        var layer = peft.GetAdapterLayer("layer");
        var input = randn(4, 12);
        using var noGrad = no_grad();
        var baseOutput = layer.BaseLayer.call(input);
        holder.train();
        TensorAssert.Close(baseOutput, holder.Run(input), 0, 0, "train: module dropout 1 skips the adapter");
        var delta = layer.GetDeltaWeight("default");
        var original = layer.BaseWeight.clone();
        peft.MergeAdapter();
        TensorAssert.Close(original.Add(delta), layer.BaseWeight, 0, 0, "a merge in training mode adds the deterministic delta");
        peft.UnmergeAdapter();
        holder.eval();
        TensorAssert.Close(baseOutput.Add(nn.functional.linear(input, delta)), holder.Run(input), 1e-5, 1e-4, "eval: adapter applies");
    }

    [Fact]
    public void Rank_dropout_masks_output_rows_while_training()
    {
        manual_seed(4);
        using var holder = new Holder(nn.Linear(12, 64));
        var peft = PeftModel.Create(holder, new LoKrConfig { R = 2, RankDropout = 0.5, InitWeights = LoKrInit.Random, TargetModules = TargetModules.FromNames("layer") });
        var layer = peft.GetAdapterLayer("layer");
        var input = randn(3, 12);
        using var noGrad = no_grad();
        var adapterPath = nn.functional.linear(input, layer.GetDeltaWeight("default"));
        holder.train();
        var trained = holder.Run(input) - layer.BaseLayer.call(input);
        // Each output feature is either dropped (0) or kept unscaled (rank_dropout_scale = false).
        var kept = (trained - adapterPath).abs().amax(0).Lt(1e-5);
        var dropped = trained.abs().amax(0).Lt(1e-7);
        Assert.True((kept | dropped).all().item<bool>());
        Assert.True(dropped.any().item<bool>() && kept.any().item<bool>());
    }

    [Theory]
    [InlineData("lora")]
    [InlineData("lora-gaussian")]
    [InlineData("loha")]
    [InlineData("lokr")]
    [InlineData("lokr-lycoris")]
    public void Default_initialisations_start_as_a_no_op(string kind)
    {
        manual_seed(5);
        using var holder = new Holder(nn.Conv2d(6, 8, 3, padding: 1));
        AdapterConfig config = kind switch
        {
            "lora" => new LoraConfig { R = 4, TargetModules = TargetModules.FromNames("layer") },
            "lora-gaussian" => new LoraConfig { R = 4, InitLoraWeights = LoraInit.Gaussian, TargetModules = TargetModules.FromNames("layer") },
            "loha" => new LoHaConfig { R = 4, UseEffectiveConv2d = true, TargetModules = TargetModules.FromNames("layer") },
            "lokr" => new LoKrConfig { R = 1, TargetModules = TargetModules.FromNames("layer") },
            _ => new LoKrConfig { R = 1, InitWeights = LoKrInit.Lycoris, TargetModules = TargetModules.FromNames("layer") },
        };
        var input = randn(2, 6, 5, 5);
        using var noGrad = no_grad();
        var before = holder.Run(input);
        var peft = PeftModel.Create(holder, config);
        Assert.Equal(0f, peft.GetAdapterLayer("layer").GetDeltaWeight("default").abs().max().item<float>());
        TensorAssert.Close(before, holder.Run(input), 0, 0, kind);
        Assert.All(peft.GetAdapterStateDict().Values, t => Assert.True(t.requires_grad));
        if (config is LoraConfig lora)
        {
            var a = ((LoraLayer)peft.GetAdapterLayer("layer")).WeightA("default");
            Assert.True(a.abs().max().item<float>() > 0, "A must be random so B receives gradients");
            if (lora.InitLoraWeights == LoraInit.Gaussian) Assert.InRange(a.std().item<float>(), 0.15, 0.35);
        }
    }

    [Theory]
    [InlineData(new long[] { 12 })]
    [InlineData(new long[] { 5, 12 })]
    [InlineData(new long[] { 2, 7, 12 })]
    [InlineData(new long[] { 2, 3, 4, 12 })]
    public void Lora_linear_of_any_rank_input_matches_peft_order_in_value_and_gradients(long[] shape)
    {
        manual_seed(11);
        using var scope = NewDisposeScope();
        using var holder = new Holder(nn.Linear(12, 10));
        var peft = PeftModel.Create(holder, new LoraConfig { R = 3, LoraAlpha = 5, InitLoraWeights = LoraInit.Random, TargetModules = TargetModules.FromNames("layer") });
        var layer = (LoraLayer)peft.GetAdapterLayer("layer");
        var (a, b) = (layer.WeightA("default"), layer.WeightB("default"));
        var input = randn(shape).requires_grad_();

        var actual = holder.Run(input);
        var upstream = randn(actual.shape);
        var actualGrads = autograd.grad([actual], [input, a, b], [upstream]);
        var expected = nn.functional.linear(input, layer.BaseWeight, layer.BaseBias)
            .Add(nn.functional.linear(nn.functional.linear(input, a), b).Mul(layer.Scaling("default")));
        var expectedGrads = autograd.grad([expected], [input, a, b], [upstream]);

        Assert.Equal(expected.shape, actual.shape);
        TensorAssert.Close(expected, actual, 1e-5, 1e-4, "output");
        string[] names = ["input", "lora_A", "lora_B"];
        for (int i = 0; i < names.Length; i++) TensorAssert.Close(expectedGrads[i], actualGrads[i], 1e-5, 1e-4, $"gradient of {names[i]}");
    }

    [Theory]
    [InlineData(1, 16, true)]
    [InlineData(2, 9, true)]
    [InlineData(1, 1, false)]
    public void Training_lora_on_a_convolution_matches_peft_order_in_value_and_gradients(int stride, int size, bool merged)
    {
        // Where the merged-weight node pays (large enough outputs) the layer takes it; value and gradients of the input,
        // both factors and a lora_only bias must equal PEFT's base_layer(x) + scaling·lora_B(lora_A(x)) either way.
        manual_seed(9);
        using var scope = NewDisposeScope();
        using var holder = new Holder(nn.Conv2d(6, 8, 3, stride, 1));
        var peft = PeftModel.Create(holder, new LoraConfig { R = 4, LoraAlpha = 6, Bias = LoraBias.LoraOnly, InitLoraWeights = LoraInit.Random, TargetModules = TargetModules.FromNames("layer") });
        var layer = (LoraLayer)peft.GetAdapterLayer("layer");
        var (a, b, bias) = (layer.WeightA("default"), layer.WeightB("default"), layer.BaseBias!);
        Assert.True(bias.requires_grad, "lora_only trains the adapted layer's bias");
        var input = randn(2, 6, size, size).requires_grad_();
        Assert.Equal(merged, MergedLoraFunction.Pays(layer.Geometry, input));

        var actual = holder.Run(input);
        var upstream = randn(actual.shape);
        var actualGrads = autograd.grad([actual], [input, a, b, bias], [upstream]);
        var g = layer.Geometry;
        var expected = g.Apply(input, layer.BaseWeight.detach(), bias).Add(nn.functional.conv2d(g.Apply(input, a), b).Mul(layer.Scaling("default")));
        var expectedGrads = autograd.grad([expected], [input, a, b, bias], [upstream]);

        TensorAssert.Close(expected, actual, 1e-5, 1e-4, "output");
        string[] names = ["input", "lora_A", "lora_B", "bias"];
        for (int i = 0; i < names.Length; i++) TensorAssert.Close(expectedGrads[i], actualGrads[i], 1e-5, 1e-4, $"gradient of {names[i]}");
        if (merged)
        {
            // The layer took the merged path: the same node, run directly, gives the same bits.
            var direct = MergedLoraFunction.Apply(input, g, layer.BaseWeight, bias, a, b, layer.Scaling("default"));
            TensorAssert.Close(direct, actual, 0, 0, "output of the merged path");
        }
    }

    [Fact]
    public void Half_precision_base_layers_get_float32_adapters()
    {
        manual_seed(6);
        using var holder = new Holder(nn.Linear(8, 8, dtype: ScalarType.BFloat16));
        var peft = PeftModel.Create(holder, new LoraConfig { R = 2, InitLoraWeights = LoraInit.Random, TargetModules = TargetModules.FromNames("layer") });
        var layer = (LoraLayer)peft.GetAdapterLayer("layer");
        Assert.Equal(ScalarType.Float32, layer.WeightA("default").dtype);
        using var noGrad = no_grad();
        var output = holder.Run(randn(3, 8, dtype: ScalarType.BFloat16));
        Assert.Equal(ScalarType.BFloat16, output.dtype);
        peft.MergeAdapter();
        Assert.Equal(ScalarType.BFloat16, layer.BaseWeight.dtype);
    }

    [Fact]
    public void Layers_inside_sequential_and_module_list_containers_are_wrapped()
    {
        manual_seed(8);
        using var model = new Containers();
        var input = randn(2, 4);
        using var noGrad = no_grad();
        var before = model.Run(input);
        var peft = PeftModel.Create(model, new LoraConfig { R = 2, InitLoraWeights = LoraInit.Random, TargetModules = TargetModules.FromNames("seq.0", "list.1") });
        Assert.Equal(["seq.0", "list.1"], peft.TargetedModuleNames());
        Assert.IsAssignableFrom<AdapterLayer>(model.named_modules().Single(m => m.name == "seq.0").module);
        Assert.True((model.Run(input) - before).abs().max().item<float>() > 1e-4, "the containers' forward must call the adapter layers");
        peft.Unload();
        TensorAssert.Close(before, model.Run(input), 0, 0, "after unload");
        Assert.Equal(["seq.0.weight", "seq.0.bias", "list.0.weight", "list.0.bias", "list.1.weight", "list.1.bias"], model.state_dict().Keys);
    }

    [Fact]
    public void A_field_typed_as_linear_cannot_be_wrapped()
    {
        using var model = new TypedField();
        var error = Assert.Throws<NotSupportedException>(() => PeftModel.Create(model, new LoraConfig { TargetModules = TargetModules.FromNames("proj") }));
        Assert.Equal("Cannot replace 'proj': field 'proj' of TypedField is declared as Linear, which cannot hold the AdapterLayer that replaces it. "
            + "Declare it as Module<Tensor, Tensor> so adapters can wrap it.", error.Message);
    }

    [Fact]
    public void State_dict_keys_follow_peft_naming()
    {
        using var holder = new Holder(nn.Conv2d(4, 6, 3));
        PeftModel.Create(holder, new LoKrConfig { R = 1, DecomposeBoth = true, TargetModules = TargetModules.FromNames("layer") });
        Assert.Equal(["layer.base_layer.weight", "layer.base_layer.bias", "layer.lokr_w1.default", "layer.lokr_w2_a.default", "layer.lokr_w2_b.default"], holder.state_dict().Keys);
        using var lora = new Holder(nn.Linear(4, 6));
        PeftModel.Create(lora, new LoraConfig { R = 2, TargetModules = TargetModules.FromNames("layer") });
        Assert.Equal(["layer.base_layer.weight", "layer.base_layer.bias", "layer.lora_A.default.weight", "layer.lora_B.default.weight"], lora.state_dict().Keys);
    }

    private static AdapterConfig Config(string kind)
    {
        var targets = TargetModules.FromNames("layer");
        return kind switch
        {
            "lora" => new LoraConfig { R = 4, LoraAlpha = 6, InitLoraWeights = LoraInit.Random, TargetModules = targets },
            "loha" => new LoHaConfig { R = 4, Alpha = 3, InitWeights = false, TargetModules = targets },
            "loha-tucker" => new LoHaConfig { R = 4, Alpha = 3, UseEffectiveConv2d = true, InitWeights = false, TargetModules = targets },
            "lokr" => new LoKrConfig { R = 1, Alpha = 2, InitWeights = LoKrInit.Random, TargetModules = targets },
            "lokr-tucker" => new LoKrConfig { R = 1, Alpha = 2, UseEffectiveConv2d = true, InitWeights = LoKrInit.Random, TargetModules = targets },
            _ => new LoKrConfig { R = 1, Alpha = 2, DecomposeBoth = true, DecomposeFactor = 2, UseEffectiveConv2d = true, InitWeights = LoKrInit.Random, TargetModules = targets },
        };
    }

    private static nn.Module<Tensor, Tensor> BaseLayer(string geometry) => geometry switch
    {
        "linear" => nn.Linear(20, 12),
        "conv3x3-stride2" => nn.Conv2d(6, 12, 3, stride: 2, padding: 1),
        "conv1x1" => nn.Conv2d(6, 12, 1),
        _ => nn.Conv2d(8, 12, (5, 3), padding: (2, 1), groups: 2),
    };

    private static Tensor Input(string geometry) => geometry switch
    {
        "linear" => randn(3, 20),
        "conv5x3-groups2" => randn(2, 8, 7, 6),
        _ => randn(2, 6, 7, 6),
    };

    private static Tensor Functional(AdapterLayer layer, Tensor input, Tensor weight)
    {
        var output = layer.Geometry.Apply(input, weight);
        return layer.BaseBias is { } bias ? output.Add(layer.Geometry.IsConv ? bias.reshape(1, -1, 1, 1) : bias) : output;
    }

    /// <summary>A parent that calls its only child through a <c>Module&lt;Tensor, Tensor&gt;</c> field named <c>layer</c>.</summary>
    private sealed class Holder : nn.Module
    {
        private readonly nn.Module<Tensor, Tensor> layer;

        public Holder(nn.Module<Tensor, Tensor> inner) : base(nameof(Holder))
        {
            layer = inner;
            RegisterComponents();
        }

        public Tensor Run(Tensor input) => layer.call(input);
    }

    private sealed class Containers : nn.Module
    {
        private readonly Sequential seq;
        private readonly ModuleList<nn.Module<Tensor, Tensor>> list;

        public Containers() : base(nameof(Containers))
        {
            seq = nn.Sequential(nn.Linear(4, 4), nn.ReLU());
            list = nn.ModuleList<nn.Module<Tensor, Tensor>>(nn.Linear(4, 4), nn.Linear(4, 3));
            RegisterComponents();
        }

        public Tensor Run(Tensor input) => list[1].call(list[0].call(seq.call(input)));
    }

    private sealed class TypedField : nn.Module
    {
        private readonly Linear proj;

        public TypedField() : base(nameof(TypedField))
        {
            proj = nn.Linear(4, 4);
            RegisterComponents();
        }
    }
}
