using System.Diagnostics;
using Peft.Typed.Models.Adapters;
using Peft.Typed.Models.Unet;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Training;

/// <summary>
/// Forward time by top-level UNet module (conv_in, time embedding, each down block, the mid block, each up block,
/// the output head) from forward pre/post hooks, plus the time adapter layers spend beyond their base layer. CPU
/// kernels run synchronously, so wall-clock stamps in the hooks bound each module's own work. Hooks are removed on
/// dispose.
/// </summary>
public sealed class ForwardProfile : IDisposable
{
    private readonly List<Action> _remove = [];
    private readonly Dictionary<string, double> _seconds = [];
    private readonly Dictionary<string, long> _started = [];
    private readonly Dictionary<string, double> _adapterSeconds = [];
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
        foreach (var (name, module) in unet.named_modules())
        {
            if (module is not AdapterLayer adapter) continue;
            var baseLayer = (nn.Module<Tensor, Tensor>)adapter.named_children().Single(c => c.name == "base_layer").module;
            var kind = baseLayer.GetType().Name;
            Accumulate(name, adapter, seconds => _adapterSeconds[kind] = _adapterSeconds.GetValueOrDefault(kind) + seconds);
            Accumulate(name + ".base_layer", baseLayer, seconds => _adapterSeconds[kind] = _adapterSeconds.GetValueOrDefault(kind) - seconds);
        }
    }

    /// <summary>Seconds per module in call order (a dictionary keeps insertion order until something is removed), summed
    /// over the profiled forwards; the rest is glue in UNet2DConditionModel.forward.</summary>
    public IEnumerable<(string Name, double Seconds)> Modules =>
        _seconds.Select(kv => (kv.Key, kv.Value)).Append(("(UNet glue between modules)", _forwardSeconds - _seconds.Values.Sum()));

    /// <summary>
    /// Seconds the adapter layers spent beyond their base layers (the LoRA branches), by base layer type; a LoRA
    /// convolution training through the merged weight runs its own convolution instead of its base layer, so counts whole.
    /// </summary>
    public IReadOnlyDictionary<string, double> AdapterOverhead => _adapterSeconds;

    public void BeginForward() => _forwardStart = Stopwatch.GetTimestamp();

    public void EndForward() => _forwardSeconds += Elapsed(_forwardStart);

    /// <summary>Seconds of the profiled forwards, hooks included.</summary>
    public double ForwardSeconds => _forwardSeconds;

    private static double Elapsed(long from) => (Stopwatch.GetTimestamp() - from) / (double)Stopwatch.Frequency;

    private void Time<TIn, TOut>(string name, nn.Module<TIn, TOut> module) =>
        Accumulate(name, module, seconds => _seconds[name] = _seconds.GetValueOrDefault(name) + seconds);

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
