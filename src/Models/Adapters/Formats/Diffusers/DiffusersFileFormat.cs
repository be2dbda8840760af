using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters.Formats.Kinds;
using Peft.Typed.Models.Adapters.Lora;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Formats.Diffusers;

/// <summary>
/// diffusers' LoRA file, <c>pytorch_lora_weights.safetensors</c>, as diffusers 0.27.2's DreamBooth LoRA scripts save it:
/// <c>LoraLoaderMixin.save_lora_weights(unet_lora_layers=convert_state_dict_to_diffusers(…), text_encoder_lora_layers=…)</c>.
/// Keys are <c>&lt;component&gt;.&lt;module&gt;.&lt;down|up&gt;.weight</c> in three spellings (see <see cref="ToDiffusers"/>). The file
/// holds no alpha and diffusers loads it at scale 1, so writing folds PEFT's scaling (alpha/r, or alpha/√r with
/// rslora, rank/alpha patterns included) into <c>up</c>, and reading gives a config with lora_alpha = r.
/// </summary>
internal sealed class DiffusersFileFormat : IAdapterFileFormat
{
    /// <summary>The components a diffusers pipeline file holds, as key prefixes.</summary>
    private static readonly string[] Components = ["text_encoder_2", "text_encoder", "unet"];

    /// <summary>
    /// diffusers 0.27.2 <c>PEFT_TO_DIFFUSERS</c>: applied to the whole key, first pattern found wins; keys matching none
    /// keep <c>lora_A</c>/<c>lora_B</c>.
    /// </summary>
    private static readonly (string Peft, string Diffusers)[] ToDiffusers =
    [
        (".q_proj.lora_B", ".q_proj.lora_linear_layer.up"), (".q_proj.lora_A", ".q_proj.lora_linear_layer.down"),
        (".k_proj.lora_B", ".k_proj.lora_linear_layer.up"), (".k_proj.lora_A", ".k_proj.lora_linear_layer.down"),
        (".v_proj.lora_B", ".v_proj.lora_linear_layer.up"), (".v_proj.lora_A", ".v_proj.lora_linear_layer.down"),
        (".out_proj.lora_B", ".out_proj.lora_linear_layer.up"), (".out_proj.lora_A", ".out_proj.lora_linear_layer.down"),
        ("to_k.lora_A", "to_k.lora.down"), ("to_k.lora_B", "to_k.lora.up"),
        ("to_q.lora_A", "to_q.lora.down"), ("to_q.lora_B", "to_q.lora.up"),
        ("to_v.lora_A", "to_v.lora.down"), ("to_v.lora_B", "to_v.lora.up"),
        ("to_out.0.lora_A", "to_out.0.lora.down"), ("to_out.0.lora_B", "to_out.0.lora.up"),
    ];

    /// <summary>Tensor-name endings diffusers loaders accept, → the PEFT tensor name (and, for the old attention-processor names, the module's last segment).</summary>
    private static readonly (string Suffix, string Tensor, string? Unet, string? Text)[] FromDiffusers =
    [
        (".lora.down.weight", LoraKeys.A, null, null), (".lora.up.weight", LoraKeys.B, null, null),
        (".lora_linear_layer.down.weight", LoraKeys.A, null, null), (".lora_linear_layer.up.weight", LoraKeys.B, null, null),
        (".lora_A.weight", LoraKeys.A, null, null), (".lora_B.weight", LoraKeys.B, null, null),
        (".to_q_lora.down.weight", LoraKeys.A, "to_q", "q_proj"), (".to_q_lora.up.weight", LoraKeys.B, "to_q", "q_proj"),
        (".to_k_lora.down.weight", LoraKeys.A, "to_k", "k_proj"), (".to_k_lora.up.weight", LoraKeys.B, "to_k", "k_proj"),
        (".to_v_lora.down.weight", LoraKeys.A, "to_v", "v_proj"), (".to_v_lora.up.weight", LoraKeys.B, "to_v", "v_proj"),
        (".to_out_lora.down.weight", LoraKeys.A, "to_out.0", "out_proj"), (".to_out_lora.up.weight", LoraKeys.B, "to_out.0", "out_proj"),
    ];

    public AdapterFileFormat Format => AdapterFileFormat.Diffusers;

    public bool Claims(string key) => Parse(key) is not null;

    public IReadOnlyDictionary<string, AdapterState> Read(string path, IReadOnlyDictionary<string, ModuleCatalog> components) =>
        FormatChecks.WithTensors(path, tensors => ReadTensors(path, tensors, components), result => result.Values.SelectMany(s => s.Tensors.Values));

    private static Dictionary<string, AdapterState> ReadTensors(string path, Dictionary<string, Tensor> tensors, IReadOnlyDictionary<string, ModuleCatalog> components)
    {
        // AdapterFiles.Read has detected the format: every key parses.
        var result = new Dictionary<string, AdapterState>(StringComparer.Ordinal);
        foreach (var group in tensors.Keys.Select(k => (Key: k, Parsed: Parse(k)!.Value)).GroupBy(k => k.Parsed.Component).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var keys = group.Select(k => k.Key).Order(StringComparer.Ordinal).ToList();
            var catalog = FormatChecks.CatalogOf(path, components, group.Key, keys);
            var modules = new List<ModuleAdapter>();
            foreach (var module in group.GroupBy(k => k.Parsed.Module).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var byTensor = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                foreach (var (key, parsed) in module)
                {
                    if (!byTensor.TryAdd(parsed.Tensor, tensors[key]))
                        throw new AdapterFormatException(path, $"module '{group.Key}.{module.Key}' has its {parsed.Tensor} twice (in two key spellings); second: '{key}'.", [key]);
                }
                var first = module.First().Key;
                foreach (var required in new[] { LoraKeys.A, LoraKeys.B }.Where(r => !byTensor.ContainsKey(r)))
                    throw new AdapterFormatException(path, $"'{first}' has no matching {(required == LoraKeys.A ? "down" : "up")} tensor for module '{group.Key}.{module.Key}'.", [first]);
                modules.Add(new ModuleAdapter(module.Key, byTensor, null, $"{group.Key}.{module.Key}"));
            }
            FormatChecks.CheckModules(path, group.Key, catalog, modules.Select(m => (m.Module, keys.First(k => Parse(k)!.Value.Module == m.Module))));
            result[group.Key] = FormatChecks.ToState(path, AdapterKindKeys.Of(LoraConfig.PeftTypeName)!, modules);
        }
        return result;
    }

    public void Write(string path, IReadOnlyDictionary<string, AdapterState> components)
    {
        using var scope = NewDisposeScope();
        var output = new List<KeyValuePair<string, Tensor>>();
        foreach (var (component, state) in components)
        {
            if (!Components.Contains(component))
                throw new AdapterFormatException(path, $"a diffusers LoRA file holds the components unet, text_encoder and text_encoder_2, not '{component}'.");
            if (state.Config is not LoraConfig lora)
                throw new AdapterFormatException(path,
                    $"{component}: diffusers has no file format for {state.Config.PeftType} adapters (its loaders read LoRA only); write {AdapterFileFormat.Kohya} (LyCORIS keys, which ComfyUI and A1111 load) or {AdapterFileFormat.Peft} instead.");
            foreach (var (module, tensors) in FormatChecks.ModulesOf(path, component, state, Format))
            {
                double scaling = lora.ScalingFor(lora.RankFor(module), lora.AlphaFor(module));
                output.Add(new(KeyOf(component, module, "lora_A"), tensors[LoraKeys.A].detach()));
                output.Add(new(KeyOf(component, module, "lora_B"), tensors[LoraKeys.B].detach().Mul(scaling)));
            }
        }
        FormatChecks.Save(path, output);
    }

    /// <summary><c>convert_state_dict_to_diffusers</c> on <c>&lt;component&gt;.&lt;module&gt;.lora_A.weight</c>.</summary>
    internal static string KeyOf(string component, string module, string tensor)
    {
        var key = $"{component}.{module}.{tensor}.weight";
        foreach (var (peft, diffusers) in ToDiffusers)
        {
            int at = key.IndexOf(peft, StringComparison.Ordinal);
            if (at >= 0) return key.Replace(peft, diffusers, StringComparison.Ordinal);
        }
        return key;
    }

    private static (string Component, string Module, string Tensor)? Parse(string key)
    {
        foreach (var component in Components)
        {
            if (!key.StartsWith(component + ".", StringComparison.Ordinal)) continue;
            var rest = key.Substring(component.Length + 1).Replace(".processor.", ".", StringComparison.Ordinal);
            foreach (var (suffix, tensor, unet, text) in FromDiffusers)
            {
                if (rest.Length <= suffix.Length || !rest.EndsWith(suffix, StringComparison.Ordinal)) continue;
                var module = rest.Substring(0, rest.Length - suffix.Length);
                var leaf = component == "unet" ? unet : text;
                return (component, leaf is null ? module : $"{module}.{leaf}", tensor);
            }
            return null;
        }
        return null;
    }
}
