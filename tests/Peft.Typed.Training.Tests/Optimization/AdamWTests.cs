using Peft.Typed.Models.Runtime;
using Peft.Typed.Testing;
using Peft.Typed.Training.Optimization;
using Parameter = TorchSharp.Modules.Parameter;
using AdamW = Peft.Typed.Training.Optimization.AdamW;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Tests.Optimization;

/// <summary>Our AdamW against libtorch's; libtorch's steps make their own Scalars, so they run without collection.</summary>
[Collection(ReferenceCallsCollection.Name)]
public class AdamWTests
{
    [Fact]
    public void Matches_libtorch_AdamW_over_several_steps()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        var init = randn(3, 4);
        var ours = new Parameter(init.clone());
        var reference = new Parameter(init.clone());
        using var optimizer = new AdamW([("w", ours)], beta1: 0.8, beta2: 0.99, weightDecay: 0.05, epsilon: 1e-6);
        var libtorch = optim.AdamW([reference], lr: 0.01, beta1: 0.8, beta2: 0.99, eps: 1e-6, weight_decay: 0.05);

        for (int step = 0; step < 5; step++)
        {
            var target = randn(3, 4);
            foreach (var p in new[] { ours, reference }) (p - target).Pow(2).sum().Mul(step + 1).backward();
            optimizer.Step(0.01);
            WithoutCollection.Run(() => libtorch.step());
            optimizer.ZeroGrad();
            libtorch.zero_grad();
        }
        Assert.True((ours - reference).abs().max().item<float>() < 1e-6f);
    }

    [Fact]
    public void Each_group_steps_with_its_own_learning_rate_and_weight_decay_as_libtorch_param_groups_do()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        var initUnet = randn(3, 4);
        var initText = randn(5);
        var unet = new Parameter(initUnet.clone());
        var text = new Parameter(initText.clone());
        var unetReference = new Parameter(initUnet.clone());
        var textReference = new Parameter(initText.clone());
        // The text group at 0.25 × the scheduled rate and its own decay; the UNet group at the rate and the default decay.
        using var optimizer = new AdamW(
            [new ParameterGroup([("unet.w", unet)]), new ParameterGroup([("text_encoder.w", text)]) { LearningRateScale = 0.25, WeightDecay = 0.5 }],
            weightDecay: 0.05);
        // AdamW updates each parameter on its own, so one libtorch optimizer per group is torch's param_groups.
        var unetLibtorch = optim.AdamW([unetReference], lr: 0.01, weight_decay: 0.05);
        var textLibtorch = optim.AdamW([textReference], lr: 0.0025, weight_decay: 0.5);

        for (int step = 0; step < 4; step++)
        {
            var unetTarget = randn(3, 4);
            var textTarget = randn(5);
            foreach (var p in new[] { unet, unetReference }) (p - unetTarget).Pow(2).sum().backward();
            foreach (var p in new[] { text, textReference }) (p - textTarget).Pow(2).sum().Mul(step + 1).backward();
            optimizer.Step(0.01);
            WithoutCollection.Run(() =>
            {
                unetLibtorch.step();
                textLibtorch.step();
            });
            optimizer.ZeroGrad();
            unetLibtorch.zero_grad();
            textLibtorch.zero_grad();
        }
        Assert.True((unet - unetReference).abs().max().item<float>() < 1e-6f);
        Assert.True((text - textReference).abs().max().item<float>() < 1e-6f);
    }

    [Fact]
    public void Many_parameters_updated_in_chunks_match_libtorch_AdamW_on_each()
    {
        using var scope = NewDisposeScope();
        manual_seed(13);
        // Small tensors of many shapes (LoRA's), one larger than a chunk, one non-contiguous, two groups; some
        // parameters get no gradient in the first step (torch counts steps per parameter) and one never does.
        var shapes = new List<long[]> { new long[] { ParameterChunk.MaxElements + 5 } };
        for (int i = 0; i < 24; i++) shapes.Add(i % 3 == 0 ? [8, 4 + i] : i % 3 == 1 ? [16 + i, 8] : [8, 3, 3, 3]);
        var inits = shapes.Select(shape => randn(shape)).Append(randn(6, 5).t()).ToList();
        var ours = inits.Select(init => new Parameter(init.clone())).ToList();
        var reference = inits.Select(init => new Parameter(init.clone())).ToList();
        Assert.False(ours[^1].is_contiguous());
        int neverGraded = 7;
        bool InUnetGroup(int i) => i < 15;
        using var optimizer = new AdamW(
            [new ParameterGroup(ours.Select((p, i) => ($"p{i}", p)).Where((_, i) => InUnetGroup(i)).ToList()),
             new ParameterGroup(ours.Select((p, i) => ($"p{i}", p)).Where((_, i) => !InUnetGroup(i)).ToList()) { LearningRateScale = 0.5, WeightDecay = 0.1 }],
            weightDecay: 0.02);
        var libtorch = reference.Select((p, i) => InUnetGroup(i)
            ? optim.AdamW([p], lr: 0.01, weight_decay: 0.02)
            : optim.AdamW([p], lr: 0.005, weight_decay: 0.1)).ToList();

        for (int step = 0; step < 4; step++)
        {
            for (int i = 0; i < ours.Count; i++)
            {
                if (i == neverGraded || (step == 0 && i % 4 == 1)) continue;
                var target = randn(ours[i].shape);
                foreach (var p in new[] { ours[i], reference[i] }) (p - target).Pow(2).sum().Mul(step + 1).backward();
            }
            optimizer.Step(0.01);
            WithoutCollection.Run(() => libtorch.ForEach(o => o.step()));
            optimizer.ZeroGrad();
            libtorch.ForEach(o => o.zero_grad());
        }

        for (int i = 0; i < ours.Count; i++)
            Assert.True((ours[i] - reference[i]).abs().max().item<float>() < 1e-6f, $"parameter {i} ({string.Join("x", ours[i].shape)}) differs from libtorch's AdamW");
        Assert.True(ours[neverGraded].equal(inits[neverGraded]).all().item<bool>());
        var state = optimizer.StateDict();
        Assert.DoesNotContain($"p{neverGraded}.exp_avg", state.Keys);
        Assert.Equal(ours[^1].shape, state[$"p{ours.Count - 1}.exp_avg_sq"].shape);
        // Entries: the step count, both moments of every graded parameter, its own count where it missed a step.
        var lateStarters = Enumerable.Range(0, ours.Count).Where(i => i != neverGraded && i % 4 == 1).ToList();
        Assert.Equal(1 + 2 * (ours.Count - 1) + lateStarters.Count, state.Count);
        Assert.All(lateStarters, i => Assert.Equal(3L, state[$"p{i}.step"].item<long>()));
    }

    [Fact]
    public void A_parameter_that_missed_steps_resumes_with_its_own_count()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var init = Enumerable.Range(0, 3).Select(_ => randn(4)).ToList();
        var a = init.Select(t => new Parameter(t.clone())).ToList();
        var b = init.Select(t => new Parameter(t.clone())).ToList();
        using var first = new AdamW(a.Select((p, i) => ($"w{i}", p)));
        using var second = new AdamW(b.Select((p, i) => ($"w{i}", p)));
        var targets = Enumerable.Range(0, 4).Select(_ => randn(4)).ToList();

        void Train(AdamW optimizer, List<Parameter> ps, int step)
        {
            // w1 gets its first gradient at step 2.
            for (int i = 0; i < ps.Count; i++) if (i != 1 || step >= 2) (ps[i] - targets[step]).Pow(2).sum().backward();
            optimizer.Step(1e-2);
            optimizer.ZeroGrad();
        }

        for (int step = 0; step < 3; step++) Train(first, a, step);
        Train(second, b, 0);
        second.LoadStateDict(first.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.clone()));
        Assert.Equal(1L, first.StateDict()["w1.step"].item<long>());
        Assert.False(first.StateDict().ContainsKey("w0.step"));
        for (int i = 0; i < 3; i++) b[i].detach().copy_(a[i]);
        Train(first, a, 3);
        Train(second, b, 3);
        Assert.All(a.Zip(b), pair => Assert.True(pair.First.equal(pair.Second).all().item<bool>()));
    }

    [Fact]
    public void A_step_count_that_is_not_one_integer_is_rejected_by_name()
    {
        using var scope = NewDisposeScope();
        using var optimizer = new AdamW([("w", new Parameter(zeros(2)))]);
        var ex = Assert.Throws<InvalidDataException>(() => optimizer.LoadStateDict(new Dictionary<string, Tensor>
        {
            ["step"] = tensor(2L), ["w.exp_avg"] = zeros(2), ["w.exp_avg_sq"] = zeros(2), ["w.step"] = tensor(1.5f),
        }));
        Assert.Equal("Optimizer state 'w.step' must be one integer >= 1; it is a Float32 tensor of shape [].", ex.Message);
        ex = Assert.Throws<InvalidDataException>(() => optimizer.LoadStateDict(new Dictionary<string, Tensor>
        {
            ["step"] = tensor(2L), ["w.exp_avg"] = zeros(2), ["w.exp_avg_sq"] = zeros(2), ["w.step"] = tensor(0L),
        }));
        Assert.Equal("Optimizer state 'w.step' must be one integer >= 1; it is 0.", ex.Message);
    }

    [Fact]
    public void A_state_of_the_wrong_shape_is_rejected_and_the_current_state_kept()
    {
        using var scope = NewDisposeScope();
        var p = new Parameter(randn(2, 3));
        using var optimizer = new AdamW([("w", p)]);
        p.sum().backward();
        optimizer.Step(0.1);
        var before = optimizer.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        var ex = Assert.Throws<InvalidDataException>(() => optimizer.LoadStateDict(new Dictionary<string, Tensor>
        {
            ["step"] = tensor(5L), ["w.exp_avg"] = zeros(3, 2), ["w.exp_avg_sq"] = zeros(3, 2),
        }));
        Assert.Equal("Optimizer state for 'w' has shape [3, 2], the parameter [2, 3].", ex.Message);
        var after = optimizer.StateDict();
        Assert.Equal(1, optimizer.StepCount);
        Assert.All(before, kv => Assert.True(kv.Value.equal(after[kv.Key]).all().item<bool>(), kv.Key));
    }

    [Fact]
    public void A_parameter_in_two_groups_is_refused_by_name()
    {
        var p = new Parameter(zeros(2));
        var error = Assert.Throws<ArgumentException>(() => new AdamW([new ParameterGroup([("w", p)]), new ParameterGroup([("w", p)])]));
        Assert.StartsWith("Parameter 'w' is in more than one group.", error.Message);
    }

    [Fact]
    public void State_round_trip_continues_identically()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var init = randn(5);
        var a = new Parameter(init.clone());
        var b = new Parameter(init.clone());
        using var first = new AdamW([("w", a)]);
        using var second = new AdamW([("w", b)]);
        var targets = Enumerable.Range(0, 4).Select(_ => randn(5)).ToList();

        void Train(AdamW optimizer, Parameter p, Tensor target)
        {
            (p - target).Pow(2).sum().backward();
            optimizer.Step(1e-2);
            optimizer.ZeroGrad();
        }

        Train(first, a, targets[0]);
        Train(first, a, targets[1]);
        Train(second, b, targets[0]);
        Train(second, b, targets[1]);
        second.LoadStateDict(first.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.clone()));
        Train(first, a, targets[2]);
        Train(second, b, targets[2]);
        Assert.Equal(3, second.StepCount);
        Assert.True(a.equal(b).all().item<bool>());
    }

    [Fact]
    public void State_for_an_unknown_parameter_is_rejected()
    {
        using var scope = NewDisposeScope();
        using var optimizer = new AdamW([("w", new Parameter(zeros(2)))]);
        var ex = Assert.Throws<InvalidDataException>(() => optimizer.LoadStateDict(new Dictionary<string, Tensor>
        {
            ["step"] = tensor(1L), ["v.exp_avg"] = zeros(2), ["v.exp_avg_sq"] = zeros(2),
        }));
        Assert.Equal("Optimizer state has entries for unknown parameters: v.exp_avg, v.exp_avg_sq.", ex.Message);
    }
}
