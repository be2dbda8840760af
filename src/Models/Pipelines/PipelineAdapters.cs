using Peft.Typed.Architecture.Targeting;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Adapters.Formats;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Pipelines;

/// <summary>
/// diffusers' <c>load_lora_weights</c> / <c>set_adapters</c> / <c>fuse_lora</c> on a pipeline: adapters load onto the
/// UNet and text encoder(s) under their own names, run together at per-adapter weights (PEFT's <c>set_scale</c>, so the
/// output is the base plus the weighted sum of the adapters' updates), and merge into the base weights only on
/// <see cref="Fuse"/>, so switching adapters or weights costs no reload.
/// </summary>
public sealed class PipelineAdapters
{
    /// <summary>The pipeline component folders an adapter output may hold (diffusers' names).</summary>
    public static readonly IReadOnlyList<string> ComponentNames = ["unet", "text_encoder", "text_encoder_2"];

    private readonly DiffusionPipeline _pipeline;
    private readonly Dictionary<string, PeftModel> _peft = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IDisposable> _disabled = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<string>> _running = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];

    public PipelineAdapters(DiffusionPipeline pipeline)
    {
        _pipeline = pipeline ?? throw new ArgumentNullException(nameof(pipeline));
    }

    /// <summary>The loaded adapters, in load order.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>
    /// Loads the adapter at <paramref name="path"/> as <paramref name="name"/>, in any format <see cref="AdapterFiles"/>
    /// reads: a PEFT folder (one adapter folder, which is the UNet's, or <c>unet/</c>, <c>text_encoder/</c>,
    /// <c>text_encoder_2/</c> folders as the DreamBooth trainer writes them), a diffusers LoRA file or a kohya/LyCORIS file.
    /// </summary>
    public void Load(string path, string name)
    {
        if (_names.Contains(name)) throw new ArgumentException($"An adapter named '{name}' is already loaded.", nameof(name));
        using var scope = NewDisposeScope();
        foreach (var (component, state) in AdapterFiles.Read(path, Catalogs(_pipeline)))
        {
            var model = Component(_pipeline, component)!;
            if (_peft.TryGetValue(component, out var peft))
            {
                peft.AddAdapter(name, state.Config);
                peft.SetAdapterStateDict(state.Tensors, name, source: path);
            }
            else
            {
                _peft[component] = state.ApplyTo(model, name);
            }
        }
        _names.Add(name);
    }

    /// <summary>The catalogs of the pipeline's adaptable components, as <see cref="AdapterFiles"/> reads and writes against.</summary>
    public static IReadOnlyDictionary<string, ModuleCatalog> Catalogs(DiffusionPipeline pipeline)
    {
        return ComponentNames.Select(c => (Name: c, Model: Component(pipeline, c))).Where(c => c.Model is not null)
            .ToDictionary(c => c.Name, c => new ModuleCatalog(c.Name, PeftModel.ListModules(c.Model!)), StringComparer.Ordinal);
    }

    /// <summary>
    /// Runs <paramref name="names"/> together, adapter i at <paramref name="weights"/>[i] (diffusers' <c>set_adapters</c>);
    /// a component holding none of them runs without adapters.
    /// </summary>
    public void SetAdapters(IReadOnlyList<string> names, IReadOnlyList<double> weights)
    {
        if (names.Count != weights.Count) throw new ArgumentException($"{names.Count} adapters but {weights.Count} weights.", nameof(weights));
        foreach (var name in names)
        {
            if (!_names.Contains(name)) throw new KeyNotFoundException($"No adapter named '{name}' is loaded; loaded: {string.Join(", ", _names)}.");
        }
        foreach (var (component, peft) in _peft)
        {
            var held = names.Select((n, i) => (Name: n, Weight: weights[i])).Where(a => peft.AdapterNames.Contains(a.Name)).ToList();
            if (_disabled.Remove(component, out var scope)) scope.Dispose();
            _running[component] = held.Select(a => a.Name).ToList();
            if (held.Count == 0) _disabled[component] = peft.DisableAdapter();
            else peft.SetAdapters(_running[component], held.Select(a => a.Weight).ToList());
        }
    }

    /// <summary>diffusers' <c>fuse_lora</c>: merges the running adapters, at their weights, into the base weights.</summary>
    public void Fuse()
    {
        using var noGrad = no_grad();
        foreach (var (component, peft) in _peft)
        {
            if (_disabled.ContainsKey(component)) continue;
            if (_running.TryGetValue(component, out var running)) peft.MergeAdapter(running);
            else peft.MergeAdapter();
        }
    }

    private static nn.Module? Component(DiffusionPipeline pipeline, string name) =>
        ComponentNames.Contains(name) ? pipeline.Models.GetValueOrDefault(name) : null;
}
