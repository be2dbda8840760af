using System;
using System.Collections.Generic;
using System.Linq;

namespace Peft.Typed.Architecture.Settings;

/// <summary>
/// The fields PEFT 0.20.0 writes into adapter_config.json for each <c>peft_type</c> this library reads (its config
/// dataclasses' fields, as <c>save_pretrained</c> writes them), for the build-time check of shipped adapter config files.
/// </summary>
public static class AdapterFileFields
{
    /// <summary>The <c>peft_type</c> values this library reads.</summary>
    public static readonly IReadOnlyList<string> PeftTypes = new[] { "LORA", "LOHA", "LOKR" };

    private static readonly string[] Common =
    {
        "alpha_pattern", "auto_mapping", "base_model_name_or_path", "exclude_modules", "inference_mode", "layers_pattern",
        "layers_to_transform", "modules_to_save", "peft_type", "peft_version", "r", "rank_pattern", "revision",
        "target_modules", "task_type",
    };

    private static readonly Dictionary<string, HashSet<string>> ByType = new()
    {
        ["LORA"] = With(
            "alora_invocation_tokens", "arrow_config", "bias", "corda_config", "ensure_weight_tying", "eva_config", "fan_in_fan_out",
            "init_lora_weights", "layer_replication", "loftq_config", "lora_alpha", "lora_bias", "lora_dropout", "lora_ga_config",
            "megatron_config", "megatron_core", "monteclora_config", "qalora_group_size", "target_parameters", "trainable_token_indices",
            "use_bdlora", "use_dora", "use_qalora", "use_rslora", "velora_config"),
        ["LOHA"] = With("alpha", "init_weights", "module_dropout", "rank_dropout", "use_effective_conv2d"),
        ["LOKR"] = With("alpha", "decompose_both", "decompose_factor", "init_weights", "module_dropout", "rank_dropout", "rank_dropout_scale", "use_effective_conv2d"),
    };

    /// <summary>PEFT's config class for a <c>peft_type</c> (<c>LoraConfig</c>), as messages name it.</summary>
    public static string ConfigClass(string peftType) => peftType switch
    {
        "LORA" => "LoraConfig",
        "LOHA" => "LoHaConfig",
        _ => "LoKrConfig",
    };

    /// <summary>True when <paramref name="field"/> is a field of <paramref name="peftType"/>'s config in PEFT 0.20.0.</summary>
    public static bool IsKnown(string peftType, string field) => ByType.TryGetValue(peftType, out var fields) && fields.Contains(field);

    /// <summary>"'lora_alpah' is not a field of PEFT 0.20.0's LoraConfig; PEFT ignores it": the unknown-field warning (PT0021).</summary>
    public static string Unknown(string peftType, string field) => $"'{field}' is not a field of PEFT 0.20.0's {ConfigClass(peftType)}; PEFT ignores it";

    /// <summary>
    /// "'peft_type' = "IA3" is not supported: this library reads LOHA, LOKR and LORA adapters.": the reader's error and
    /// PT0020's. <paramref name="peftTypes"/> are the kinds the caller knows (the runtime's registered kinds, the
    /// analyzer's <see cref="PeftTypes"/>), named in ordinal order so both say the same.
    /// </summary>
    public static string UnsupportedPeftType(string shownValue, IEnumerable<string> peftTypes)
    {
        var names = peftTypes.OrderBy(t => t, StringComparer.Ordinal).ToList();
        var list = names.Count == 1 ? names[0] : $"{string.Join(", ", names.Take(names.Count - 1))} and {names[names.Count - 1]}";
        return $"'peft_type' = {shownValue} is not supported: this library reads {list} adapters.";
    }

    private static HashSet<string> With(params string[] own)
    {
        var fields = new HashSet<string>(Common);
        fields.UnionWith(own);
        return fields;
    }
}
