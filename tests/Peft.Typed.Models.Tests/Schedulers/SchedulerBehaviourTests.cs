using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Schedulers;

/// <summary>Options and errors the fixtures do not exercise, checked against diffusers' definitions.</summary>
public class SchedulerBehaviourTests
{
    private static readonly SchedulerConfig Sd = new() { BetaStart = 0.00085, BetaEnd = 0.012, BetaSchedule = BetaSchedule.ScaledLinear };

    // Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are Flawed", table 2 (T = 1000, 10 steps).
    [Theory]
    [InlineData(TimestepSpacing.Linspace, 0, new long[] { 999, 888, 777, 666, 555, 444, 333, 222, 111, 0 })]
    [InlineData(TimestepSpacing.Leading, 0, new long[] { 900, 800, 700, 600, 500, 400, 300, 200, 100, 0 })]
    [InlineData(TimestepSpacing.Leading, 1, new long[] { 901, 801, 701, 601, 501, 401, 301, 201, 101, 1 })]
    [InlineData(TimestepSpacing.Trailing, 0, new long[] { 999, 899, 799, 699, 599, 499, 399, 299, 199, 99 })]
    public void Timestep_spacing_follows_diffusers(TimestepSpacing spacing, int stepsOffset, long[] expected)
    {
        using var scheduler = new DDIMScheduler(Sd with { TimestepSpacing = spacing, StepsOffset = stepsOffset });
        scheduler.SetTimesteps(10);
        Assert.Equal(expected, scheduler.Timesteps.data<long>().ToArray());
    }

    [Fact]
    public void Timesteps_before_set_timesteps_are_all_training_steps_descending()
    {
        using var scheduler = new DDPMScheduler(Sd);
        var timesteps = scheduler.Timesteps.data<long>().ToArray();
        Assert.Equal(Enumerable.Range(0, 1000).Reverse().Select(t => (long)t), timesteps);
        Assert.Null(scheduler.NumInferenceSteps);
        Assert.Equal(999, scheduler.PreviousTimestep(1000));
    }

    [Fact]
    public void Linear_betas_run_from_beta_start_to_beta_end_in_float32()
    {
        using var scheduler = new DDPMScheduler(new SchedulerConfig());
        var betas = scheduler.Betas.data<float>().ToArray();
        Assert.Equal(1000, betas.Length);
        Assert.Equal(0.0001f, betas[0]);
        Assert.Equal(0.02f, betas[^1]);
        Assert.Equal((0.0001f + 0.02f) / 2, (betas[499] + betas[500]) / 2, 1e-7f);
    }

    // diffusers' betas_for_alpha_bar: beta_i = min(1 - abar((i+1)/T) / abar(i/T), 0.999), abar(t) = cos((t+0.008)/1.008 * pi/2)^2.
    [Fact]
    public void Squaredcos_cap_v2_betas_follow_the_glide_cosine_and_cap_at_0_999()
    {
        using var scheduler = new DDPMScheduler(new SchedulerConfig { BetaSchedule = BetaSchedule.SquaredCosCapV2 });
        static double AlphaBar(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);
        var betas = scheduler.Betas.data<float>().ToArray();
        Assert.Equal((float)(1 - AlphaBar(0.001) / AlphaBar(0.0)), betas[0]);
        Assert.Equal((float)(1 - AlphaBar(501.0 / 1000) / AlphaBar(500.0 / 1000)), betas[500]);
        Assert.Equal(0.999f, betas[^1]);
    }

    [Fact]
    public void Trained_betas_replace_the_schedule()
    {
        using var fixture = new SchedulerFixture("ddpm");
        var trained = fixture["betas"].data<float>().ToArray().Select(b => (double)b).ToArray();
        using var scheduler = new DDPMScheduler(new SchedulerConfig { TrainedBetas = trained });
        SchedulerFixture.AssertClose(fixture["alphas_cumprod"], scheduler.AlphasCumprod, "alphas_cumprod from trained_betas");
    }

    [Fact]
    public void Set_alpha_to_one_makes_the_final_alpha_cumprod_one()
    {
        using var scheduler = new DDIMScheduler(Sd with { SetAlphaToOne = true });
        Assert.Equal(1f, scheduler.FinalAlphaCumprod.item<float>());
    }

    // With clip_sample, DDIM clamps x0 to the range: a huge epsilon-sample makes the unclipped x0 leave [-1, 1].
    [Fact]
    public void Ddim_clip_sample_clamps_the_predicted_original_sample()
    {
        using var scheduler = new DDIMScheduler(Sd with { ClipSample = true, ClipSampleRange = 0.5 });
        scheduler.SetTimesteps(10);
        using var scope = NewDisposeScope();
        var output = scheduler.Step(TensorArithmetic.Full([1, 4, 2, 2], -3), 901, TensorArithmetic.Full([1, 4, 2, 2], 2));
        Assert.Equal(0.5f, output.PredOriginalSample.max().item<float>());
        Assert.Equal(0.5f, output.PredOriginalSample.min().item<float>());
    }

    [Fact]
    public void Ddim_step_before_set_timesteps_is_rejected()
    {
        using var scheduler = new DDIMScheduler(Sd);
        using var x = zeros(1, 4, 2, 2);
        var error = Assert.Throws<InvalidOperationException>(() => scheduler.Step(x, 999, x));
        Assert.Equal("Number of inference steps is not set: call SetTimesteps before Step.", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public void Invalid_number_of_inference_steps_is_rejected(int steps)
    {
        using var scheduler = new DDPMScheduler(Sd);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.SetTimesteps(steps));
        Assert.Equal("numInferenceSteps", error.ParamName);
        Assert.StartsWith("num_inference_steps must be between 1 and num_train_timesteps (1000).", error.Message);
    }

    [Fact]
    public void Timestep_outside_the_schedule_is_rejected()
    {
        using var scheduler = new DDPMScheduler(Sd);
        using var x = zeros(1, 4, 2, 2);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.Step(x, 1000, x));
        Assert.StartsWith("timestep must be in [0, 999].", error.Message);
    }

    [Fact]
    public void Noise_and_generator_together_are_rejected()
    {
        using var scheduler = new DDPMScheduler(Sd);
        using var x = zeros(1, 4, 2, 2);
        using var generator = new Generator(42);
        var error = Assert.Throws<ArgumentException>(() => scheduler.Step(x, 500, x, varianceNoise: x, generator: generator));
        Assert.StartsWith("Pass either varianceNoise or generator, not both.", error.Message);
    }

    // A step drawing its own noise from a seeded generator equals the step given that generator's noise explicitly.
    [Fact]
    public void Ddpm_step_with_a_generator_uses_its_noise()
    {
        using var scheduler = new DDPMScheduler(Sd);
        scheduler.SetTimesteps(10);
        using var scope = NewDisposeScope();
        using var inputs = new Generator(1);
        using var stepNoise = new Generator(7);
        using var sameNoise = new Generator(7);
        var x = randn(1, 4, 8, 8, generator: inputs);
        var eps = randn(1, 4, 8, 8, generator: inputs);
        var drawn = scheduler.Step(eps, 500, x, generator: stepNoise).PrevSample;
        var given = scheduler.Step(eps, 500, x, varianceNoise: randn(1, 4, 8, 8, generator: sameNoise)).PrevSample;
        Assert.Equal(given.data<float>().ToArray(), drawn.data<float>().ToArray());
        var noNoise = scheduler.Step(eps, 500, x, varianceNoise: zeros(1, 4, 8, 8)).PrevSample;
        Assert.NotEqual(noNoise.data<float>().ToArray(), drawn.data<float>().ToArray());
    }

    // Each step keeps exactly its two outputs alive: every temporary is disposed inside Step.
    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void Sampling_steps_keep_only_their_outputs_alive(double eta)
    {
        using var ddim = new DDIMScheduler(Sd);
        using var ddpm = new DDPMScheduler(Sd);
        ddim.SetTimesteps(10);
        ddpm.SetTimesteps(10);
        using var scope = NewDisposeScope();
        var sample = randn(1, 4, 8, 8);
        var eps = randn(1, 4, 8, 8);
        foreach (var t in ddim.Timesteps.data<long>().ToArray())
        {
            var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            var ddimOutput = ddim.Step(eps, t, sample, eta: eta);
            Assert.Equal(before + 2, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            ddpm.Step(eps, t, sample);
            Assert.Equal(before + 4, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            sample = ddimOutput.PrevSample;
        }
    }
}
