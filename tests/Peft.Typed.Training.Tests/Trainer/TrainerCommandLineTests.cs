namespace Peft.Typed.Training.Tests.Trainer;

/// <summary>
/// The trainer executable's start-up checks, run as a user runs them (a child process on the embedded default): a bad
/// target or option value ends the run before anything is written, with one line naming the option, exit code 2.
/// </summary>
[Trait("Category", "Slow")]
[Collection(TrainerCollection.Name)]
public sealed class TrainerCommandLineTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-cli-").FullName;
    private string OutputDir => Path.Combine(_dir, "run");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int ExitCode, string Log, IReadOnlyList<string> Errors) Train(params string[] arguments) =>
        ChildProcess.Run(ChildProcess.Executable("TrainerExecutable"), ["--output_dir", OutputDir, "--max_train_steps", "1", .. arguments], Timeout);

    private void AssertRefused(string expectedLine, params string[] arguments)
    {
        var (code, log, errors) = Train(arguments);
        Assert.True(code == 2, $"exit code {code}:\n{log}");
        Assert.Equal(expectedLine, Assert.Single(errors));
        Assert.False(Directory.Exists(OutputDir), "a refused run must not create its output folder");
    }

    [Fact]
    public void A_misspelled_target_names_the_closest_module() =>
        AssertRefused("error: --unet_target_modules: 'to_qq' matches no module of the UNet; did you mean 'to_q'?", "--unet_target_modules", "to_qq");

    [Fact]
    public void A_text_encoder_target_is_checked_against_the_text_encoder()
    {
        var (code, log, errors) = Train("--train_text_encoder", "--te_target_modules", "to_q,v_proj");
        Assert.True(code == 2, $"exit code {code}:\n{log}");
        Assert.StartsWith("error: --te_target_modules: 'to_q' matches no module of the text encoder", Assert.Single(errors));
    }

    [Fact]
    public void Renamed_attention_names_beside_matching_ones_warn_and_training_goes_on()
    {
        var (code, log, errors) = Train("--unet_target_modules", "query,value,to_q");
        Assert.True(code == 0, $"exit code {code}:\n{log}");
        Assert.Equal(
        [
            "warning: --unet_target_modules: 'query' matches no module of the UNet: diffusers renamed the attention projection 'query' to 'to_q'.",
            "warning: --unet_target_modules: 'value' matches no module of the UNet: diffusers renamed the attention projection 'value' to 'to_v'.",
        ], errors.Where(e => e.StartsWith("warning:", StringComparison.Ordinal)));
        var weights = TrainerFixture.AdapterWeights(Path.Combine(OutputDir, "unet"));
        Assert.NotEmpty(weights);
        Assert.All(weights.Keys, key => Assert.Contains(".to_q.", key));
    }

    [Fact]
    public void A_short_training_prints_each_libtorch_warning_at_most_once()
    {
        var (code, log, _) = Train();
        Assert.True(code == 0, log);
        // libtorch's lines look like "[W1202 05:27:59.249256378 NNPACK.cpp:56] message"; compare them without the time.
        var warnings = log.Split('\n').Where(l => l.StartsWith("[W", StringComparison.Ordinal)).Select(l => l[(l.IndexOf(' ', l.IndexOf(' ') + 1) + 1)..].Trim());
        Assert.All(warnings.GroupBy(w => w), g => Assert.True(g.Count() == 1, $"{g.Count()} times: {g.Key}"));
    }

    [Fact]
    public void Libtorchs_openmp_threads_spin_briefly_and_num_threads_is_accepted()
    {
        // libgomp prints the settings it read when it was loaded (verbose: with its spin count, 300000 by default); the
        // trainer must have set GOMP_SPINCOUNT before that.
        var (code, log, _) = ChildProcess.Run(ChildProcess.Executable("TrainerExecutable"),
            ["--output_dir", OutputDir, "--max_train_steps", "1", "--num_threads", "1"], Timeout, new Dictionary<string, string> { ["OMP_DISPLAY_ENV"] = "verbose" });
        Assert.True(code == 0, $"exit code {code}:\n{log}");
        Assert.Contains($"GOMP_SPINCOUNT = '{Peft.Typed.Models.Runtime.TorchRuntime.OpenMpSpinCount}'", log);
    }

    [Fact]
    public void A_thread_count_below_one_is_refused() => AssertRefused("error: --num_threads 0: must be > 0", "--num_threads", "0");

    [Fact]
    public void A_thread_count_that_is_neither_auto_nor_a_number_is_refused() =>
        AssertRefused("error: --num_threads 'two': must be auto or a number of threads.", "--num_threads", "two");

    [Fact]
    public void The_embedded_sdxl_model_trains_from_the_command_line_with_both_text_encoders()
    {
        var (code, log, _) = Train("--model", "sdxl-tiny", "--train_text_encoder");
        Assert.True(code == 0, $"exit code {code}:\n{log}");
        foreach (var folder in new[] { "unet", "text_encoder", "text_encoder_2" })
            Assert.NotEmpty(TrainerFixture.AdapterWeights(Path.Combine(OutputDir, folder)));
    }

    [Fact]
    public void The_sdxl_scripts_rank_sets_rank_and_alpha_of_both_models_unless_given_per_model()
    {
        var (code, log, _) = Train("--rank", "4", "--te_alpha", "2", "--train_text_encoder", "--text_encoder_lr", "1e-5", "--adam_weight_decay_text_encoder", "0");
        Assert.True(code == 0, $"exit code {code}:\n{log}");
        (int R, double Alpha) Read(string folder)
        {
            var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(OutputDir, folder, "adapter_config.json")))!;
            return (config["r"]!.GetValue<int>(), config["lora_alpha"]!.GetValue<double>());
        }
        Assert.Equal((4, 4.0), Read("unet"));
        Assert.Equal((4, 2.0), Read("text_encoder"));
    }

    [Fact]
    public void A_negative_text_encoder_learning_rate_is_one_line() =>
        AssertRefused("error: --text_encoder_lr -1: must be > 0", "--train_text_encoder", "--text_encoder_lr", "-1");

    [Fact]
    public void An_unknown_embedded_model_is_one_line() =>
        AssertRefused("error: --model 'sd3-tiny': must be sd-tiny or sdxl-tiny.", "--model", "sd3-tiny");

    [Fact]
    public void A_regex_that_matches_nothing_is_an_error() =>
        AssertRefused("error: --unet_target_modules: The regex '.*attn3\\.to_q' matches no module of the UNet.", "--unet_target_modules", ".*attn3\\.to_q");

    [Fact]
    public void An_exclude_entry_naming_no_module_is_an_error() =>
        AssertRefused("error: --unet_exclude_modules: 'to_vv' matches no module of the UNet; did you mean 'to_v'?", "--unet_exclude_modules", "to_vv");

    [Fact]
    public void A_target_the_adapter_cannot_wrap_is_an_error()
    {
        var (code, log, errors) = Train("--unet_target_modules", "norm1");
        Assert.True(code == 2, $"exit code {code}:\n{log}");
        var line = Assert.Single(errors);
        Assert.StartsWith("error: --unet_target_modules: 'norm1' selects ", line);
        Assert.EndsWith(" of the UNet, which LoRA cannot wrap; adapters wrap Linear and Conv2d layers.", line);
    }

    [Theory]
    [InlineData("--lr_scheduler", "cosin", "constant, constant_with_warmup, linear, cosine, cosine_with_restarts, polynomial")]
    [InlineData("--prediction_type", "x0", "epsilon, v_prediction")]
    [InlineData("--mixed_precision", "fp8", "no, fp16, bf16")]
    [InlineData("--unet_bias", "some", "none, all, lora_only")]
    [InlineData("--adapter", "dora", "lora, loha, lokr")]
    [InlineData("--optimizer", "adam", "adamw, prodigy")]
    public void A_value_outside_a_closed_set_lists_the_valid_spellings(string option, string value, string valid) =>
        AssertRefused($"error: {option} {value}: must be one of {valid}", option, value);
}
