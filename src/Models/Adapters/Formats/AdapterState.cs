using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters.Formats.Kinds;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters.Formats;

/// <summary>
/// One model component's adapter in PEFT's own terms: its config and its adapter_model.safetensors tensors (keys
/// exactly as PEFT saves them: <c>base_model.model.&lt;module&gt;.lora_A.weight</c>, no adapter name). What every file
/// format reads into and writes from.
/// </summary>
public sealed record AdapterState(AdapterConfig Config, IReadOnlyDictionary<string, Tensor> Tensors)
{
    /// <summary>
    /// The state of adapter <paramref name="adapterName"/> of <paramref name="peft"/>: its config (an
    /// <c>all-linear</c> target resolved to the module names, as PEFT saves it) and its live parameters (not copies).
    /// </summary>
    public static AdapterState From(PeftModel peft, string adapterName = PeftModel.DefaultAdapterName)
    {
        ArgumentNullException.ThrowIfNull(peft);
        if (!peft.PeftConfig.TryGetValue(adapterName, out var config))
            throw new ArgumentException($"The model has no adapter '{adapterName}'; it has {string.Join(", ", peft.AdapterNames.Select(n => $"'{n}'"))}.", nameof(adapterName));
        if (config.TargetModules is { Kind: TargetModulesKind.AllLinear })
            config = config with { TargetModules = TargetModules.FromNames(peft.TargetedModuleNames(adapterName)) };
        return new AdapterState(config, peft.GetAdapterStateDict(adapterName));
    }

    /// <summary>The names of the modules the tensors adapt, in key order.</summary>
    public IReadOnlyList<string> ModuleNames =>
        Tensors.Keys.Select(ModuleOf).OfType<string>().Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// Adapts <paramref name="model"/> with this state under <paramref name="adapterName"/> (PEFT's <c>get_peft_model</c>
    /// + <c>set_peft_model_state_dict</c>, strict). With <see cref="AdapterConfig.InferenceMode"/> (as every file reads)
    /// the adapter is frozen and the model put in eval mode. A state that does not fit leaves the model as it was.
    /// </summary>
    public PeftModel ApplyTo(nn.Module model, string adapterName = PeftModel.DefaultAdapterName)
    {
        var peft = PeftModel.Create(model, Config, adapterName);
        try
        {
            peft.SetAdapterStateDict(Tensors, adapterName);
        }
        catch
        {
            peft.Unload();
            throw;
        }
        if (Config.InferenceMode) model.eval();
        return peft;
    }

    /// <summary>
    /// The same adapter at another strength: every alpha (and so every scaling) multiplied by <paramref name="scale"/>,
    /// which is what PEFT's <c>set_scale(adapter, scale)</c> and diffusers' <c>lora_scale</c> /
    /// <c>cross_attention_kwargs={"scale": …}</c> do. The tensors are shared.
    /// </summary>
    public AdapterState WithScale(double scale) => this with { Config = Config.WithAlphaScaled(scale) };

    /// <summary>The module of a PEFT key (<c>base_model.model.a.b.lora_A.weight</c> → <c>a.b</c>), or null for a key that is not an adapter tensor.</summary>
    internal static string? ModuleOf(string key) => Split(key)?.Module;

    /// <summary>(module, PEFT tensor name, kind) of a PEFT key, or null for a key that is not an adapter tensor of a known kind.</summary>
    internal static (string Module, string Tensor, AdapterKindKeys Kind)? Split(string key)
    {
        if (!key.StartsWith(PeftModel.KeyPrefix, StringComparison.Ordinal)) return null;
        var rest = key.Substring(PeftModel.KeyPrefix.Length);
        foreach (var kind in AdapterKindKeys.All)
        {
            foreach (var name in kind.PeftTensorNames)
            {
                if (rest.Length > name.Length && rest.EndsWith("." + name, StringComparison.Ordinal))
                    return (rest.Substring(0, rest.Length - name.Length - 1), name, kind);
            }
        }
        return null;
    }
}
