using System.Diagnostics;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Unet;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Training;

/// <summary>
/// Forward time by top-level UNet module (conv_in, time embedding, each down block, the mid block, each up block,
/// the output head) from forward pre/post hooks, and by layer kind (convolutions, linear layers, the attention core
/// between an attention module's projections), an adapter layer counting whole under its base layer's kind. CPU
/// kernels run synchronously, so wall-clock stamps in the hooks bound each module's own work. Hooks are removed on
/// dispose.
/// </summary>
public sealed class ForwardProfile : IDisposable
{
    private readonly List<Action> _remove = [];
    private readonly Dictionary<string, double> _seconds = [];
    private readonly Dictionary<string, long> _started = [];
    private readonly Dictionary<string, double> _kindSeconds = [];
    private readonly List<string> _timedLayers = [];
    private int _openAttentions;
    private long _forwardStart;
    private double _forwardSeconds;

    public ForwardProfile(UNet2DConditionModel unet)
    {
        foreach (var (name, module) in unet.named_children())
        {
            switch (module)
            {
                case nn.Module<Tensor, Tensor> m: Time(name, m); break;
                case nn.Module<UNetBlockInput, DownBlockOutput> m: Time(name, m); break;
                case nn.Module<UNetBlockInput, Tensor> m: Time(name, m); break;
                case nn.Module<UpBlockInput, Tensor> m: Time(name, m); break;
                case TorchSharp.Modules.ModuleList<nn.Module<UNetBlockInput, DownBlockOutput>> list:
                    for (int i = 0; i < list.Count; i++) Time($"{name}.{i}", list[i]);
                    break;
                case TorchSharp.Modules.ModuleList<nn.Module<UpBlockInput, Tensor>> list:
                    for (int i = 0; i < list.Count; i++) Time($"{name}.{i}", list[i]);
                    break;
                default: throw new InvalidOperationException($"No timing for UNet child '{name}' ({module.GetType().Name}).");
            }
        }
        // named_modules lists a module before its children, so an adapter layer is seen before its own layers.
        var adapterLayers = new List<string>();
        foreach (var (name, module) in unet.named_modules())
        {
            switch (module)
            {
                // A wrapped layer counts whole under its base layer's kind, the adapter's work included, so neither
                // its base layer nor the adapter's own layers (lora_A, lora_B, which unmerged LoRA calls) count again.
                // Keys apart from the block timings': a top-level layer such as conv_in is timed by both.
                case AdapterLayer adapter:
                    adapterLayers.Add(name + ".");
                    _timedLayers.Add(name);
                    Accumulate("kind:" + name, adapter, seconds => AddLayerSeconds(adapter.BaseLayer.GetType().Name, seconds));
                    break;
                case TorchSharp.Modules.Conv2d or TorchSharp.Modules.Linear when !adapterLayers.Any(a => name.StartsWith(a, StringComparison.Ordinal)):
                    _timedLayers.Add(name);
                    Accumulate("kind:" + name, (nn.Module<Tensor, Tensor>)module, seconds => AddLayerSeconds(module.GetType().Name, seconds));
                    break;
                case Peft.Typed.Models.Layers.Attention attention: TimeAttention("kind:" + name, attention); break;
            }
        }
    }

    /// <summary>The attention core's kind: what an attention module does between and besides its projections.</summary>
    public const string AttentionCore = "Attention";

    /// <summary>
    /// Seconds by layer kind (Conv2d, Linear, <see cref="AttentionCore"/>) summed over the profiled forwards; the
    /// attention core excludes the projections inside the attention module, which count as Linear.
    /// </summary>
    public IReadOnlyDictionary<string, double> LayerKinds => _kindSeconds;

    /// <summary>The modules whose time <see cref="LayerKinds"/> sums, by name: layers and adapter layers, none inside another.</summary>
    public IReadOnlyList<string> TimedLayers => _timedLayers;

    /// <summary>Seconds per module in call order (a dictionary keeps insertion order until something is removed), summed
    /// over the profiled forwards; the rest is glue in UNet2DConditionModel.forward.</summary>
    public IEnumerable<(string Name, double Seconds)> Modules =>
        _seconds.Select(kv => (kv.Key, kv.Value)).Append(("(UNet glue between modules)", _forwardSeconds - _seconds.Values.Sum()));

    public void BeginForward() => _forwardStart = Stopwatch.GetTimestamp();

    public void EndForward() => _forwardSeconds += Elapsed(_forwardStart);

    /// <summary>Seconds of the profiled forwards, hooks included.</summary>
    public double ForwardSeconds => _forwardSeconds;

    private static double Elapsed(long from) => (Stopwatch.GetTimestamp() - from) / (double)Stopwatch.Frequency;

    private void Time<TIn, TOut>(string name, nn.Module<TIn, TOut> module) =>
        Accumulate(name, module, seconds => _seconds[name] = _seconds.GetValueOrDefault(name) + seconds);

    private void AddLayerSeconds(string kind, double seconds)
    {
        _kindSeconds[kind] = _kindSeconds.GetValueOrDefault(kind) + seconds;
        // Attention modules do not nest, so a projection that ends while one is open belongs to it.
        if (_openAttentions > 0) _kindSeconds[AttentionCore] = _kindSeconds.GetValueOrDefault(AttentionCore) - seconds;
    }

    private void TimeAttention(string key, Peft.Typed.Models.Layers.Attention attention)
    {
        var pre = attention.register_forward_pre_hook((_, input, context) =>
        {
            _openAttentions++;
            _started[key] = Stopwatch.GetTimestamp();
            return (input, context);
        });
        var post = attention.register_forward_hook((_, _, _, output) =>
        {
            _openAttentions--;
            _kindSeconds[AttentionCore] = _kindSeconds.GetValueOrDefault(AttentionCore) + Elapsed(_started[key]);
            return output;
        });
        _remove.Add(pre.remove);
        _remove.Add(post.remove);
    }

    private void Accumulate<TIn, TOut>(string key, nn.Module<TIn, TOut> module, Action<double> add)
    {
        var pre = module.register_forward_pre_hook((_, input) =>
        {
            _started[key] = Stopwatch.GetTimestamp();
            return input;
        });
        var post = module.register_forward_hook((_, _, output) =>
        {
            add(Elapsed(_started[key]));
            return output;
        });
        _remove.Add(pre.remove);
        _remove.Add(post.remove);
    }

    public void Dispose()
    {
        foreach (var remove in _remove) remove();
        _remove.Clear();
    }
}
