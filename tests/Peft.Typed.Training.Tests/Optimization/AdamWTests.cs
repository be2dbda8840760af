using Peft.Typed.Models.Runtime;
using Peft.Typed.Training.Optimization;
using Parameter = TorchSharp.Modules.Parameter;
using AdamW = Peft.Typed.Training.Optimization.AdamW;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Tests.Optimization;

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
            libtorch.step();
            optimizer.ZeroGrad();
            libtorch.zero_grad();
        }
        Assert.True((ours - reference).abs().max().item<float>() < 1e-6f);
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
