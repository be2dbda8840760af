using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.SafeTensors;
using Peft.Typed.Training.Optimization;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Tests.Optimization;

/// <summary>
/// Prodigy against values worked out apart from our code, from the update of the <c>prodigyopt</c> package
/// (konstmish/prodigy, prodigyopt/prodigy.py, <c>Prodigy.step</c>; Algorithm 4 of Mishchenko and Defazio,
/// arXiv:2306.06101). With k the number of steps taken, d the estimate before the step, g the gradient and x0 the
/// parameter at the first step, one step is:
/// <code>
/// bc  = use_bias_correction ? sqrt(1 - β2^(k+1)) / (1 - β1^(k+1)) : 1;   dlr = d · lr · bc
/// g  += weight_decay · x                                  (only when decouple is false)
/// r   = β3 · r + (d/d0) · dlr · ⟨g, x0 − x⟩                (d_numerator)
/// m   = β1 · m + d (1 − β1) g;   v = β2 · v + d² (1 − β2) g²
/// s   = β3 · s + (d/d0) · (safeguard_warmup ? d : dlr) · g;   d̂ = d_coef · r / |s|₁
/// d   = max(d, d̂) if d = d0;  d_max = max(d_max, d̂);  d = min(d_max, d · growth_rate)
/// x  −= weight_decay · dlr · x                            (only when decouple is true)
/// x  −= dlr · m / (√v + d_new · ε)                         (dlr of the old d)
/// </code>
/// The gradient of each step is fixed (loss = ⟨g_t, x⟩), so the numbers do not depend on a model: x0 = (1, −2),
/// g1 = (0.5, −1), g2 = (0.4, −0.6), g3 = (0.2, −0.5), lr = 1, d0 = 0.1 (large enough that the steps are not tiny).
/// The expected values below were computed from those formulas in double precision by a separate scalar script.
/// </summary>
public class ProdigyTests
{
    private static readonly double[] Start = [1.0, -2.0];
    private static readonly double[][] Gradients = [[0.5, -1.0], [0.4, -0.6], [0.2, -0.5]];

    [Fact]
    public void Matches_the_hand_derived_steps_with_the_package_defaults()
    {
        // Step 1: x = x0, so r = 0 and d̂ = 0: d stays d0 = 0.1, dlr = 0.1. m = 0.01 g, v = 1e-5 g², so
        // m / √v = √10 · sign(g) and x1 = x0 − 0.1 · √10 · sign(g) ≈ (0.683772, −1.683772) (ε · d adds 1e-9 to √v).
        // Step 2: r = 0.1 · ⟨g2, x0 − x1⟩ = 0.1 · (0.4 · 0.316228 + 0.6 · 0.316228) = 0.0316228;
        // s = √β2 · 0.1 g1 + 0.1 g2, |s|₁ = 0.249925, so d = d̂ = 0.126529; the step still uses dlr = 0.1.
        // Step 3: dlr = 0.126529 and d grows to 0.312441.
        Check(new ProdigyOptions { D0 = 0.1 }, weightDecay: 0,
            expectedD: [0.1, 0.1265290186067691, 0.31244060618569397],
            expected:
            [
                [0.6837724339830358, -1.6837723339831308],
                [0.26385957606875343, -1.2768782442542568],
                [-0.3281895345249032, -0.6785492036318741],
            ]);
    }

    [Fact]
    public void Matches_the_hand_derived_steps_with_decoupled_weight_decay_and_a_growth_limit()
    {
        // Weight decay 0.1 shrinks x by 1 − 0.1 · dlr before the Adam step; at step 3 d̂ = 0.339874 exceeds
        // 1.5 × 0.132931, so d is held to 0.199396 while d_max keeps d̂.
        Check(new ProdigyOptions { D0 = 0.1, GrowthRate = 1.5 }, weightDecay: 0.1,
            expectedD: [0.1, 0.13293093966347044, 0.19939640949520565],
            expected:
            [
                [0.6737724339830358, -1.6637723339831307],
                [0.24712186500927918, -1.2402405279805584],
                [-0.38161694348558906, -0.5924160765308961],
            ]);
    }

    [Fact]
    public void Matches_the_hand_derived_steps_with_bias_correction_safeguard_warmup_and_coupled_weight_decay()
    {
        // Step 1: bc = √0.001 / 0.1, dlr = 0.0316228; the gradient includes 0.1 · x (coupled decay), s uses d, not dlr.
        // d̂ stays below d0 in these three steps, so d = 0.1 throughout while dlr follows the bias correction.
        Check(new ProdigyOptions { D0 = 0.1, GrowthRate = 1.5, Beta3 = 0.9, Decouple = false, UseBiasCorrection = true, SafeguardWarmup = true }, weightDecay: 0.1,
            expectedD: [0.1, 0.1, 0.1],
            expected:
            [
                [0.9000000527045999, -1.900000026352307],
                [0.8010289666127842, -1.8031096854662927],
                [0.7073521217056757, -1.7080710622143063],
            ]);
    }

    [Fact]
    public void Groups_share_one_estimate_of_d_and_decay_with_their_own_weight_decay()
    {
        // x's two coordinates as two parameters in two groups: the first decays with 0.1 (decoupled), the second takes
        // the optimizer's 0. d is estimated over both, so the sums are the vector case's; only the decay differs.
        // Same scalar script and formulas as above (growth limit 1.5).
        using var scope = NewDisposeScope();
        var first = new Parameter(tensor(new[] { Start[0] }, float64));
        var second = new Parameter(tensor(new[] { Start[1] }, float64));
        using var optimizer = new Prodigy(
            [new ParameterGroup([("a", first)]) { WeightDecay = 0.1 }, new ParameterGroup([("b", second)])],
            new ProdigyOptions { D0 = 0.1, GrowthRate = 1.5 });
        double[] expectedD = [0.1, 0.12812949887094444, 0.19219424830641665];
        double[][] expected =
        [
            [0.6737724339830358, -1.6837723339831308],
            [0.24712185504901218, -1.27687824602079],
            [-0.3564349279579446, -0.6702906336452603],
        ];
        for (int step = 0; step < Gradients.Length; step++)
        {
            first.Mul(Gradients[step][0]).sum().Add(second.Mul(Gradients[step][1]).sum()).backward();
            optimizer.Step(1.0);
            optimizer.ZeroGrad();
            Assert.Equal(expectedD[step], optimizer.D, 1e-9);
            Assert.Equal(expected[step][0], first.item<double>(), 1e-9);
            Assert.Equal(expected[step][1], second.item<double>(), 1e-9);
        }
    }

    [Fact]
    public void A_group_with_its_own_learning_rate_is_refused_as_prodigyopt_refuses_it()
    {
        var error = Assert.Throws<ArgumentException>(() => new Prodigy([new ParameterGroup([("w", new Parameter(zeros(2)))]) { LearningRateScale = 0.5 }]));
        Assert.StartsWith("Prodigy takes one learning rate for all parameter groups", error.Message);
    }

    /// <summary>
    /// Runs the steps with x as one parameter and again with its coordinates as two parameters of one group, which the
    /// optimizer updates as one chunk (their sums for d then come from the concatenation): the same numbers either way.
    /// </summary>
    private static void Check(ProdigyOptions options, double weightDecay, double[] expectedD, double[][] expected)
    {
        foreach (bool split in new[] { false, true })
        {
            using var scope = NewDisposeScope();
            var parameters = split
                ? Start.Select(v => new Parameter(tensor(new[] { v }, float64))).ToList()
                : [new Parameter(tensor(Start, float64))];
            using var optimizer = new Prodigy(parameters.Select((p, i) => ($"x{i}", p)), options, weightDecay: weightDecay);
            for (int step = 0; step < Gradients.Length; step++)
            {
                var g = Gradients[step];
                (split ? parameters[0].Mul(g[0]).sum().Add(parameters[1].Mul(g[1]).sum()) : parameters[0].mul(tensor(g, float64)).sum()).backward();
                optimizer.Step(1.0);
                optimizer.ZeroGrad();
                Assert.Equal(expectedD[step], optimizer.D, 1e-9);
                var values = parameters.SelectMany(p => p.data<double>().ToArray()).ToArray();
                for (int i = 0; i < values.Length; i++) Assert.Equal(expected[step][i], values[i], 1e-9);
            }
            Assert.Equal(3, optimizer.StepCount);
        }
    }

    [Fact]
    public void A_zero_learning_rate_changes_nothing_but_the_first_step_state()
    {
        using var scope = NewDisposeScope();
        var x = new Parameter(tensor(Start, float64));
        using var optimizer = new Prodigy([("x", x)]);
        x.mul(tensor(Gradients[0], float64)).sum().backward();
        optimizer.Step(0);
        Assert.Equal(0, optimizer.StepCount);
        Assert.Equal(1e-6, optimizer.D);
        Assert.Equal(Start, x.data<double>().ToArray());
    }

    [Fact]
    public void State_saved_to_safetensors_and_loaded_continues_bit_identically()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var init = randn(3, 4);
        var a = new Parameter(init.clone());
        var b = new Parameter(init.clone());
        var options = new ProdigyOptions { UseBiasCorrection = true, D0 = 1e-3 };
        using var first = new Prodigy([("w", a)], options, weightDecay: 0.01);
        using var second = new Prodigy([("w", b)], options, weightDecay: 0.01);
        // One target for all steps: consistent gradients, so d grows and the resumed steps use a learned d.
        var target = randn(3, 4);

        static void Train(Prodigy optimizer, Parameter p, Tensor target)
        {
            p.sub(target).Pow(2).sum().backward();
            optimizer.Step(1.0);
            optimizer.ZeroGrad();
        }

        for (int i = 0; i < 3; i++) Train(first, a, target);
        var file = Path.Combine(Path.GetTempPath(), $"prodigy-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafetensorsWriter.Save(file, first.StateDict());
            // The second optimizer resumes on a copy of the first's parameter, from the file alone.
            b.detach().copy_(a);
            second.LoadStateDict(SafetensorsFile.LoadAll(file));
        }
        finally
        {
            File.Delete(file);
        }
        Assert.Equal(first.D, second.D);
        for (int i = 3; i < 5; i++)
        {
            Train(first, a, target);
            Train(second, b, target);
        }
        Assert.Equal(5, second.StepCount);
        Assert.True(first.D > 1e-3, $"d grew from d0 (d = {first.D})");
        Assert.Equal(first.D, second.D);
        Assert.True(a.equal(b).all().item<bool>());
    }

    [Fact]
    public void State_of_another_optimizer_is_rejected()
    {
        using var scope = NewDisposeScope();
        using var optimizer = new Prodigy([("w", new Parameter(zeros(2)))]);
        var ex = Assert.Throws<InvalidDataException>(() => optimizer.LoadStateDict(new Dictionary<string, Tensor>
        {
            ["step"] = tensor(1L), ["w.exp_avg"] = zeros(2), ["w.exp_avg_sq"] = zeros(2),
        }));
        Assert.Equal("Optimizer state has no 'd'; it is not Prodigy's.", ex.Message);
    }

    [Fact]
    public void State_for_an_unknown_parameter_is_rejected()
    {
        using var scope = NewDisposeScope();
        using var optimizer = new Prodigy([("w", new Parameter(zeros(2)))]);
        var ex = Assert.Throws<InvalidDataException>(() => optimizer.LoadStateDict(new Dictionary<string, Tensor>
        {
            ["step"] = tensor(1L), ["d"] = tensor(0.1, float64), ["d_max"] = tensor(0.1, float64), ["d_numerator"] = tensor(0.0, float64),
            ["w.exp_avg"] = zeros(2), ["w.exp_avg_sq"] = zeros(2), ["w.s"] = zeros(2), ["v.p0"] = zeros(2),
        }));
        Assert.Equal("Optimizer state has entries for unknown parameters: v.p0.", ex.Message);
    }
}
