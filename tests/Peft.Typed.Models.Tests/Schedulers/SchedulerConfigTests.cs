using Peft.Typed.Models.Schedulers;
using Peft.Typed.Testing;

namespace Peft.Typed.Models.Tests.Schedulers;

public sealed class SchedulerConfigTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("scheduler-config-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string json)
    {
        var path = Path.Combine(_folder, "scheduler_config.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Ddpm_fixture_config_is_read()
    {
        var config = SchedulerConfig.FromFile(Fixtures.PathOf("schedulers", "ddpm", "scheduler_config.json"));
        Assert.Equal(
            new SchedulerConfig
            {
                NumTrainTimesteps = 1000,
                BetaStart = 0.00085,
                BetaEnd = 0.012,
                BetaSchedule = BetaSchedule.ScaledLinear,
                PredictionType = PredictionType.Epsilon,
                ClipSample = true,
                ClipSampleRange = 1.0,
                TimestepSpacing = TimestepSpacing.Leading,
                StepsOffset = 0,
                VarianceType = VarianceType.FixedSmall,
            },
            config);
    }

    [Fact]
    public void Ddim_v_prediction_fixture_config_is_read()
    {
        var config = SchedulerConfig.FromFile(Fixtures.PathOf("schedulers", "ddim-v_prediction", "scheduler_config.json"));
        Assert.Equal(PredictionType.VPrediction, config.PredictionType);
        Assert.False(config.SetAlphaToOne);
        Assert.False(config.ClipSample);
        Assert.Equal(1, config.StepsOffset);
    }

    [Fact]
    public void Missing_keys_take_diffusers_defaults()
    {
        var config = SchedulerConfig.FromFile(Write("{\"_class_name\": \"DDPMScheduler\"}"));
        Assert.Equal(
            (1000, 0.0001, 0.02, BetaSchedule.Linear, PredictionType.Epsilon, true, 1.0, TimestepSpacing.Leading, 0, true, VarianceType.FixedSmall),
            (config.NumTrainTimesteps, config.BetaStart, config.BetaEnd, config.BetaSchedule, config.PredictionType, config.ClipSample,
                config.ClipSampleRange, config.TimestepSpacing, config.StepsOffset, config.SetAlphaToOne, config.VarianceType));
        Assert.Null(config.TrainedBetas);
    }

    // Stable Diffusion 1.5's scheduler/scheduler_config.json is a PNDMScheduler config; training loads it into DDPM.
    [Fact]
    public void Keys_of_other_schedulers_are_ignored()
    {
        var config = SchedulerConfig.FromFile(Write("""
            {"_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0", "beta_end": 0.012, "beta_schedule": "scaled_linear",
             "beta_start": 0.00085, "num_train_timesteps": 1000, "set_alpha_to_one": false, "skip_prk_steps": true,
             "steps_offset": 1, "trained_betas": null, "clip_sample": false}
            """));
        Assert.Equal((BetaSchedule.ScaledLinear, 1, false, false), (config.BetaSchedule, config.StepsOffset, config.SetAlphaToOne, config.ClipSample));
    }

    [Theory]
    [InlineData("beta_schedule", "\"sigmoid\"", "beta_schedule 'sigmoid' is not supported; expected one of: linear, scaled_linear, squaredcos_cap_v2.")]
    [InlineData("prediction_type", "\"sample\"", "prediction_type 'sample' is not supported; expected one of: epsilon, v_prediction.")]
    [InlineData("timestep_spacing", "\"karras\"", "timestep_spacing 'karras' is not supported; expected one of: leading, trailing, linspace.")]
    [InlineData("variance_type", "\"learned_range\"", "variance_type 'learned_range' is not supported; expected one of: fixed_small.")]
    [InlineData("beta_start", "\"0.1\"", "beta_start must be a number, found \"0.1\".")]
    [InlineData("num_train_timesteps", "1000.5", "num_train_timesteps must be an integer, found 1000.5.")]
    [InlineData("num_train_timesteps", "0", "num_train_timesteps must be positive, found 0.")]
    [InlineData("clip_sample", "1", "clip_sample must be true or false, found 1.")]
    [InlineData("prediction_type", "3", "prediction_type must be a string, found 3.")]
    [InlineData("trained_betas", "[0.1, \"x\"]", "trained_betas must be null or an array of numbers, found [0.1, \"x\"].")]
    [InlineData("trained_betas", "[0.1, 0.2]", "trained_betas has 2 values but num_train_timesteps is 1000.")]
    [InlineData("thresholding", "true", "thresholding=true (dynamic thresholding) is not supported.")]
    [InlineData("rescale_betas_zero_snr", "true", "rescale_betas_zero_snr=true (zero-terminal-SNR rescaling) is not supported.")]
    public void Bad_option_is_reported_with_file_key_and_value(string key, string value, string message)
    {
        var path = Write($"{{\"{key}\": {value}}}");
        var error = Assert.Throws<InvalidDataException>(() => SchedulerConfig.FromFile(path));
        Assert.Equal($"'{path}': {message}", error.Message);
    }

    [Fact]
    public void Malformed_json_is_reported_with_its_path()
    {
        var path = Write("{\"beta_start\": ");
        var error = Assert.Throws<InvalidDataException>(() => SchedulerConfig.FromFile(path));
        Assert.StartsWith($"'{path}' is not valid JSON: ", error.Message);
    }

    [Fact]
    public void Json_that_is_not_an_object_is_reported()
    {
        var path = Write("[]");
        var error = Assert.Throws<InvalidDataException>(() => SchedulerConfig.FromFile(path));
        Assert.Equal($"'{path}' must be a JSON object, found Array.", error.Message);
    }

    [Fact]
    public void Missing_file_is_reported()
    {
        var path = Path.Combine(_folder, "nope.json");
        var error = Assert.Throws<FileNotFoundException>(() => SchedulerConfig.FromFile(path));
        Assert.Equal($"Scheduler config '{path}' does not exist.", error.Message);
    }

    [Fact]
    public void Ddpm_from_folder_reads_scheduler_config_json()
    {
        using var scheduler = DDPMScheduler.FromFolder(Fixtures.PathOf("schedulers", "ddpm"));
        Assert.True(scheduler.Config.ClipSample);
        using var ddim = DDIMScheduler.FromFolder(Fixtures.PathOf("schedulers", "ddim-epsilon"));
        Assert.Equal(1, ddim.Config.StepsOffset);
    }
}
