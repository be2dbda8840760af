using Peft.Typed.Models.Schedulers;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Schedulers;

/// <summary>DDPM and DDIM against the diffusers 0.27.2 references in ../shared/fixtures/schedulers.</summary>
public class SchedulerFixtureTests
{
    public static TheoryData<string> Folders => ["ddpm", "ddim-epsilon", "ddim-v_prediction"];

    public static TheoryData<string> DdimFolders => ["ddim-epsilon", "ddim-v_prediction"];

    [Theory]
    [MemberData(nameof(Folders))]
    public void Betas_and_alphas_cumprod_equal_the_float32_reference(string folder)
    {
        using var fixture = new SchedulerFixture(folder);
        using var scheduler = fixture.CreateScheduler();
        Assert.Equal(ScalarType.Float32, scheduler.AlphasCumprod.dtype);
        SchedulerFixture.AssertClose(fixture["betas"], scheduler.Betas, "betas");
        SchedulerFixture.AssertClose(fixture["alphas_cumprod"], scheduler.AlphasCumprod, "alphas_cumprod");
        if (fixture.Has("alphas")) SchedulerFixture.AssertClose(fixture["alphas"], scheduler.Alphas, "alphas");
    }

    [Theory]
    [MemberData(nameof(DdimFolders))]
    public void Final_alpha_cumprod_is_the_first_alpha_cumprod(string folder)
    {
        using var fixture = new SchedulerFixture(folder);
        using var scheduler = new DDIMScheduler(fixture.Config);
        SchedulerFixture.AssertClose(fixture["final_alpha_cumprod"].reshape(), scheduler.FinalAlphaCumprod, "final_alpha_cumprod");
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public void Add_noise_equals_the_reference(string folder)
    {
        using var fixture = new SchedulerFixture(folder);
        using var scheduler = fixture.CreateScheduler();
        using var noisy = scheduler.AddNoise(fixture["add_noise.original_samples"], fixture["add_noise.noise"], fixture["add_noise.timesteps"]);
        SchedulerFixture.AssertClose(fixture["add_noise.noisy_samples"], noisy, "add_noise");
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public void Get_velocity_equals_the_reference(string folder)
    {
        using var fixture = new SchedulerFixture(folder);
        using var scheduler = fixture.CreateScheduler();
        using var velocity = scheduler.GetVelocity(fixture["get_velocity.sample"], fixture["get_velocity.noise"], fixture["get_velocity.timesteps"]);
        SchedulerFixture.AssertClose(fixture["get_velocity.velocity"], velocity, "get_velocity");
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public void Set_timesteps_gives_the_reference_timesteps(string folder)
    {
        using var fixture = new SchedulerFixture(folder);
        using var scheduler = fixture.CreateScheduler();
        scheduler.SetTimesteps(10);
        Assert.Equal(fixture["loop.timesteps"].data<long>().ToArray(), scheduler.Timesteps.data<long>().ToArray());
        Assert.Equal(10, scheduler.NumInferenceSteps);
    }

    // Each step from the reference input, so a mismatch points at the exact step.
    [Theory]
    [MemberData(nameof(Folders))]
    public void Every_step_equals_the_reference(string folder)
    {
        using var fixture = new SchedulerFixture(folder);
        using var scheduler = fixture.CreateScheduler();
        scheduler.SetTimesteps(10);
        var timesteps = scheduler.Timesteps.data<long>().ToArray();
        for (var i = 0; i < timesteps.Length; i++)
        {
            using var scope = NewDisposeScope();
            var output = Step(scheduler, fixture, "loop", i, timesteps[i], fixture["loop.sample_in"][i], eta: 0.0);
            SchedulerFixture.AssertClose(fixture["loop.prev_sample"][i], output.PrevSample, $"prev_sample[{i}] (t={timesteps[i]})");
            SchedulerFixture.AssertClose(fixture["loop.pred_original_sample"][i], output.PredOriginalSample, $"pred_original_sample[{i}] (t={timesteps[i]})");
        }
    }

    // The whole sampling loop on our own samples, as a pipeline runs it.
    [Theory]
    [InlineData("ddpm", "loop", 0.0)]
    [InlineData("ddim-epsilon", "loop", 0.0)]
    [InlineData("ddim-v_prediction", "loop", 0.0)]
    [InlineData("ddim-epsilon", "loop_eta1", 1.0)]
    [InlineData("ddim-v_prediction", "loop_eta1", 1.0)]
    public void Full_loop_equals_the_reference(string folder, string loop, double eta)
    {
        using var fixture = new SchedulerFixture(folder);
        using var scheduler = fixture.CreateScheduler();
        scheduler.SetTimesteps(10);
        var timesteps = scheduler.Timesteps.data<long>().ToArray();
        using var scope = NewDisposeScope();
        var sample = fixture[$"{loop}.sample_in"][0];
        for (var i = 0; i < timesteps.Length; i++)
        {
            SchedulerFixture.AssertClose(fixture[$"{loop}.sample_in"][i], sample, $"{loop} sample_in[{i}]");
            var output = Step(scheduler, fixture, loop, i, timesteps[i], sample, eta);
            SchedulerFixture.AssertClose(fixture[$"{loop}.pred_original_sample"][i], output.PredOriginalSample, $"{loop} pred_original_sample[{i}]");
            SchedulerFixture.AssertClose(fixture[$"{loop}.prev_sample"][i], output.PrevSample, $"{loop} prev_sample[{i}]");
            sample = output.PrevSample;
        }
    }

    private static SchedulerStepOutput Step(DiffusionScheduler scheduler, SchedulerFixture fixture, string loop, int i, long t, Tensor sample, double eta)
    {
        var modelOutput = fixture[$"{loop}.model_output"][i];
        return scheduler switch
        {
            DDPMScheduler ddpm => ddpm.Step(modelOutput, t, sample, varianceNoise: fixture[$"{loop}.variance_noise"][i]),
            DDIMScheduler ddim => ddim.Step(modelOutput, t, sample, eta, varianceNoise: eta > 0 ? fixture[$"{loop}.variance_noise"][i] : null),
            _ => throw new ArgumentException(scheduler.GetType().Name),
        };
    }
}
