using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Adapters;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Flops;

/// <summary>
/// Counts the FLOPs of one or more forward passes of a model built from a <see cref="ModuleTree"/>: walks the tree for
/// its Conv2d and Linear nodes and its attention modules (diffusers <c>Attention</c>, transformers <c>CLIPAttention</c>),
/// hooks the matching TorchSharp modules to see the shapes each call really gets, and applies <see cref="FlopFormulas"/>.
/// It also counts the products a backward through those calls needs, from what requires gradients in them
/// (<see cref="BackwardByKind"/>). Hooks are removed on dispose.
/// </summary>
public sealed class FlopCounter : IDisposable
{
    private static readonly Dictionary<string, (string Query, string Key, string Value)> AttentionProjections = new()
    {
        ["Attention"] = ("to_q", "to_k", "to_v"),
        ["CLIPAttention"] = ("q_proj", "k_proj", "v_proj"),
    };

    private readonly List<Action> _removeHooks = [];
    private readonly Dictionary<string, PendingAttention> _pendingAttentions = [];

    public FlopCounter(nn.Module model, ModuleTree tree)
    {
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (var node in tree.Modules)
        {
            switch (node.ClassName)
            {
                case "Conv2d":
                    Hook(modules, node.Path, (module, input, output) =>
                    {
                        var kernel = node.Options.GetIntList("kernel_size");
                        AddLayer("Conv2d", module, input, output, FlopFormulas.Conv2d(output.shape[0], node.Options.GetInt("in_channels"), output.shape[1],
                            kernel[0], kernel[1], output.shape[2], output.shape[3]));
                    });
                    break;
                case "Linear":
                    Hook(modules, node.Path, (module, input, output) =>
                    {
                        long inFeatures = node.Options.GetInt("in_features");
                        AddLayer("Linear", module, input, output, FlopFormulas.Linear(input.numel() / inFeatures, inFeatures, node.Options.GetInt("out_features")));
                    });
                    break;
            }
            if (AttentionProjections.TryGetValue(node.ClassName, out var projections))
            {
                var path = node.Path;
                Hook(modules, path + "." + projections.Query, (_, _, output) => Pending(path).Record(query: output));
                Hook(modules, path + "." + projections.Key, (_, _, output) => Pending(path).Record(key: output));
                Hook(modules, path + "." + projections.Value, (_, _, output) => Pending(path).Record(value: output));
            }
        }
    }

    /// <summary>All counted FLOPs.</summary>
    public double Total => ByKind.Values.Sum();

    /// <summary>FLOPs by kind: Conv2d, Linear, Attention.</summary>
    public Dictionary<string, double> ByKind { get; } = [];

    /// <summary>
    /// FLOPs of the products a backward through the counted calls runs, by kind (<see cref="FlopFormulas.LayerBackward"/>,
    /// <see cref="FlopFormulas.AttentionBackward"/>): none for a call under <c>no_grad</c>, one product per forward product
    /// for a frozen layer whose input needs a gradient.
    /// </summary>
    public Dictionary<string, double> BackwardByKind { get; } = [];

    /// <summary>The FLOPs of <paramref name="run"/> (one or more forward calls of <paramref name="model"/>).</summary>
    public static FlopCounter Count(nn.Module model, ModuleTree tree, Action run)
    {
        var counter = new FlopCounter(model, tree);
        try
        {
            run();
        }
        finally
        {
            counter.RemoveHooks();
        }
        return counter;
    }

    public void Dispose() => RemoveHooks();

    private void RemoveHooks()
    {
        foreach (var remove in _removeHooks) remove();
        _removeHooks.Clear();
    }

    private void Hook(Dictionary<string, nn.Module> modules, string path, Action<nn.Module, Tensor, Tensor> onCall)
    {
        if (!modules.TryGetValue(path, out var module))
            throw new ArgumentException($"The model has no module '{path}', which its module tree lists.");
        if (module is not nn.Module<Tensor, Tensor> tensorModule)
            throw new ArgumentException($"Module '{path}' ({module.GetType().Name}) is not a tensor-to-tensor module.");
        var hook = tensorModule.register_forward_hook((_, input, output) =>
        {
            onCall(module, input, output);
            return output;
        });
        _removeHooks.Add(hook.remove);
    }

    // An output that needs no gradient (no_grad, or nothing upstream trains) has no backward.
    private void AddLayer(string kind, nn.Module module, Tensor input, Tensor output, double flops)
    {
        Add(ByKind, kind, flops);
        Add(BackwardByKind, kind, output.requires_grad ? FlopFormulas.LayerBackward(flops, input.requires_grad, WeightOf(module).requires_grad) : 0);
    }

    /// <summary>The weight of a counted layer: the layer's own, or an adapter layer's base weight.</summary>
    private static Tensor WeightOf(nn.Module module) => module switch
    {
        AdapterLayer adapted => adapted.BaseWeight,
        TorchSharp.Modules.Linear linear => linear.weight,
        TorchSharp.Modules.Conv2d conv => conv.weight,
        _ => throw new ArgumentException($"FlopCounter counts Linear and Conv2d layers, not {module.GetType().Name}."),
    };

    private PendingAttention Pending(string path)
    {
        if (!_pendingAttentions.TryGetValue(path, out var pending)) _pendingAttentions[path] = pending = new PendingAttention(this, path);
        return pending;
    }

    /// <summary>
    /// One attention call's projections, which run in any order, once each per call: Q is [B, N, inner], K and V
    /// [B, M, inner]. Counted when all three have run.
    /// </summary>
    private sealed class PendingAttention(FlopCounter counter, string path)
    {
        private (long[] Shape, bool Gradient)? _query, _key, _value;

        public void Record(Tensor? query = null, Tensor? key = null, Tensor? value = null)
        {
            if (query is not null) _query = (query.shape, query.requires_grad);
            if (key is not null) _key = (key.shape, key.requires_grad);
            if (value is not null) _value = (value.shape, value.requires_grad);
            if (_query is not { } q || _key is not { } k || _value is not { } v) return;
            counter.Add(counter.ByKind, "Attention", FlopFormulas.Attention(q.Shape[0], q.Shape[1], k.Shape[1], q.Shape[2]));
            counter.Add(counter.BackwardByKind, "Attention", FlopFormulas.AttentionBackward(q.Shape[0], q.Shape[1], k.Shape[1], q.Shape[2], q.Gradient, k.Gradient, v.Gradient));
            counter._pendingAttentions.Remove(path);
        }
    }

    private void Add(Dictionary<string, double> byKind, string kind, double flops) => byKind[kind] = byKind.GetValueOrDefault(kind) + flops;
}
