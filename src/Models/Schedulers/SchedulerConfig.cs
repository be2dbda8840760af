using System.Text.Json;
using Peft.Typed.Models.Loading;

namespace Peft.Typed.Models.Schedulers;

/// <summary>
/// The fields of a diffusers <c>scheduler_config.json</c> that DDPM and DDIM read, with diffusers' defaults for every
/// missing key. Keys of other schedulers (a Stable Diffusion folder ships a PNDMScheduler config with
/// <c>skip_prk_steps</c> etc.) are ignored, as <c>DDPMScheduler.from_pretrained</c> does.
/// </summary>
public sealed record SchedulerConfig
{
    /// <summary><c>num_train_timesteps</c>, default 1000.</summary>
    public int NumTrainTimesteps { get; init; } = 1000;

    /// <summary><c>beta_start</c>, default 0.0001.</summary>
    public double BetaStart { get; init; } = 0.0001;

    /// <summary><c>beta_end</c>, default 0.02.</summary>
    public double BetaEnd { get; init; } = 0.02;

    /// <summary><c>beta_schedule</c>, default <c>"linear"</c>.</summary>
    public BetaSchedule BetaSchedule { get; init; } = BetaSchedule.Linear;

    /// <summary><c>trained_betas</c>: explicit betas that replace the schedule, default none.</summary>
    public IReadOnlyList<double>? TrainedBetas { get; init; }

    /// <summary><c>prediction_type</c>, default <c>"epsilon"</c>.</summary>
    public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;

    /// <summary><c>clip_sample</c>: clamp the predicted x0 to ±<see cref="ClipSampleRange"/>, default true.</summary>
    public bool ClipSample { get; init; } = true;

    /// <summary><c>clip_sample_range</c>, default 1.0.</summary>
    public double ClipSampleRange { get; init; } = 1.0;

    /// <summary><c>timestep_spacing</c>, default <c>"leading"</c>.</summary>
    public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Leading;

    /// <summary><c>steps_offset</c>: added to "leading" timesteps, default 0 (SD uses 1).</summary>
    public int StepsOffset { get; init; }

    /// <summary>DDIM's <c>set_alpha_to_one</c>: ā before the first training step is 1 (else ā[0]), default true.</summary>
    public bool SetAlphaToOne { get; init; } = true;

    /// <summary>DDPM's <c>variance_type</c>, default <c>"fixed_small"</c>.</summary>
    public VarianceType VarianceType { get; init; } = VarianceType.FixedSmall;

    /// <summary>Reads a <c>scheduler_config.json</c>; missing keys take diffusers' defaults.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON, a wrongly typed value, or an unsupported option; the message names the file, key and value.</exception>
    public static SchedulerConfig FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Scheduler config '{path}' does not exist.", path);
        using (var document = JsonFile.Parse(path))
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"'{path}' must be a JSON object, found {document.RootElement.ValueKind}.");
            return new Reader(path, document.RootElement).Read();
        }
    }

    private readonly struct Reader(string path, JsonElement root)
    {
        public SchedulerConfig Read()
        {
            var defaults = new SchedulerConfig();
            RejectIfTrue("thresholding", "dynamic thresholding");
            RejectIfTrue("rescale_betas_zero_snr", "zero-terminal-SNR rescaling");
            var config = new SchedulerConfig
            {
                NumTrainTimesteps = Int("num_train_timesteps", defaults.NumTrainTimesteps),
                BetaStart = Number("beta_start", defaults.BetaStart),
                BetaEnd = Number("beta_end", defaults.BetaEnd),
                BetaSchedule = Option("beta_schedule", defaults.BetaSchedule,
                    ("linear", BetaSchedule.Linear), ("scaled_linear", BetaSchedule.ScaledLinear), ("squaredcos_cap_v2", BetaSchedule.SquaredCosCapV2)),
                TrainedBetas = NumberList("trained_betas"),
                PredictionType = Option("prediction_type", defaults.PredictionType,
                    ("epsilon", PredictionType.Epsilon), ("v_prediction", PredictionType.VPrediction)),
                ClipSample = Bool("clip_sample", defaults.ClipSample),
                ClipSampleRange = Number("clip_sample_range", defaults.ClipSampleRange),
                TimestepSpacing = Option("timestep_spacing", defaults.TimestepSpacing,
                    ("leading", TimestepSpacing.Leading), ("trailing", TimestepSpacing.Trailing), ("linspace", TimestepSpacing.Linspace)),
                StepsOffset = Int("steps_offset", defaults.StepsOffset),
                SetAlphaToOne = Bool("set_alpha_to_one", defaults.SetAlphaToOne),
                VarianceType = Option("variance_type", defaults.VarianceType, ("fixed_small", VarianceType.FixedSmall)),
            };
            if (config.NumTrainTimesteps <= 0)
                throw new InvalidDataException($"'{path}': num_train_timesteps must be positive, found {config.NumTrainTimesteps}.");
            if (config.TrainedBetas is { } betas && betas.Count != config.NumTrainTimesteps)
                throw new InvalidDataException($"'{path}': trained_betas has {betas.Count} values but num_train_timesteps is {config.NumTrainTimesteps}.");
            return config;
        }

        // A key that is absent or null takes the default, as diffusers' register_to_config does.
        private bool TryGet(string key, out JsonElement value) =>
            root.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null;

        private InvalidDataException WrongType(string key, string expected, JsonElement value) =>
            new($"'{path}': {key} must be {expected}, found {value.GetRawText()}.");

        private int Int(string key, int fallback)
        {
            if (!TryGet(key, out var value)) return fallback;
            return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var result) ? result : throw WrongType(key, "an integer", value);
        }

        private double Number(string key, double fallback)
        {
            if (!TryGet(key, out var value)) return fallback;
            return value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw WrongType(key, "a number", value);
        }

        private bool Bool(string key, bool fallback)
        {
            if (!TryGet(key, out var value)) return fallback;
            return value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : throw WrongType(key, "true or false", value);
        }

        private double[]? NumberList(string key)
        {
            if (!TryGet(key, out var value)) return null;
            if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number))
                throw WrongType(key, "null or an array of numbers", value);
            return [.. value.EnumerateArray().Select(v => v.GetDouble())];
        }

        private T Option<T>(string key, T fallback, params (string Name, T Value)[] options)
        {
            if (!TryGet(key, out var value)) return fallback;
            if (value.ValueKind != JsonValueKind.String) throw WrongType(key, "a string", value);
            var name = value.GetString();
            foreach (var option in options)
            {
                if (option.Name == name) return option.Value;
            }
            throw new InvalidDataException(
                $"'{path}': {key} '{name}' is not supported; expected one of: {string.Join(", ", options.Select(o => o.Name))}.");
        }

        private void RejectIfTrue(string key, string feature)
        {
            if (Bool(key, false)) throw new InvalidDataException($"'{path}': {key}=true ({feature}) is not supported.");
        }
    }
}
