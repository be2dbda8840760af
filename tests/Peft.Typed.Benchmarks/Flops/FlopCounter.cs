using Peft.Typed.Architecture.Tree;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Benchmarks.Flops;

/// <summary>
/// Counts the FLOPs of one or more forward passes of a model built from a <see cref="ModuleTree"/>: walks the tree for
/// its Conv2d and Linear nodes and its attention modules (diffusers <c>Attention</c>, transformers <c>CLIPAttention</c>),
/// hooks the matching TorchSharp modules to see the shapes each call really gets, and applies <see cref="FlopFormulas"/>.
/// Hooks are removed on dispose.
/// </summary>
public sealed class FlopCounter : IDisposable
{
    private static readonly Dictionary<string, (string Query, string Key)> AttentionProjections = new()
    {
        ["Attention"] = ("to_q", "to_k"),
        ["CLIPAttention"] = ("q_proj", "k_proj"),
    };

    private readonly List<Action> _removeHooks = [];
    private readonly Dictionary<string, long[]> _pendingQueries = [];
    private readonly Dictionary<string, long[]> _pendingKeys = [];

    public FlopCounter(nn.Module model, ModuleTree tree)
    {
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (var node in tree.Modules)
        {
            switch (node.ClassName)
            {
                case "Conv2d":
                    Hook(modules, node.Path, (input, output) =>
                    {
                        var kernel = node.Options.GetIntList("kernel_size");
                        Add("Conv2d", FlopFormulas.Conv2d(output.shape[0], node.Options.GetInt("in_channels"), output.shape[1],
                            kernel[0], kernel[1], output.shape[2], output.shape[3]));
                    });
                    break;
                case "Linear":
                    Hook(modules, node.Path, (input, output) =>
                    {
                        long inFeatures = node.Options.GetInt("in_features");
                        Add("Linear", FlopFormulas.Linear(input.numel() / inFeatures, inFeatures, node.Options.GetInt("out_features")));
                    });
                    break;
            }
            if (AttentionProjections.TryGetValue(node.ClassName, out var projections))
            {
                var path = node.Path;
                Hook(modules, path + "." + projections.Query, (_, output) => Pair(path, query: output.shape, key: null));
                Hook(modules, path + "." + projections.Key, (_, output) => Pair(path, query: null, key: output.shape));
            }
        }
    }

    /// <summary>All counted FLOPs.</summary>
    public double Total => ByKind.Values.Sum();

    /// <summary>FLOPs by kind: Conv2d, Linear, Attention.</summary>
    public Dictionary<string, double> ByKind { get; } = [];

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

    private void Hook(Dictionary<string, nn.Module> modules, string path, Action<Tensor, Tensor> onCall)
    {
        if (!modules.TryGetValue(path, out var module))
            throw new ArgumentException($"The model has no module '{path}', which its module tree lists.");
        if (module is not nn.Module<Tensor, Tensor> tensorModule)
            throw new ArgumentException($"Module '{path}' ({module.GetType().Name}) is not a tensor-to-tensor module.");
        var hook = tensorModule.register_forward_hook((_, input, output) =>
        {
            onCall(input, output);
            return output;
        });
        _removeHooks.Add(hook.remove);
    }

    // Q is [B, N, inner] and K is [B, M, inner]; the projections run in either order, once each per attention call.
    private void Pair(string path, long[]? query, long[]? key)
    {
        if (query is not null) _pendingQueries[path] = query;
        if (key is not null) _pendingKeys[path] = key;
        if (!_pendingQueries.Remove(path, out var q)) return;
        if (!_pendingKeys.Remove(path, out var k))
        {
            _pendingQueries[path] = q;
            return;
        }
        Add("Attention", FlopFormulas.Attention(q[0], q[1], k[1], q[2]));
    }

    private void Add(string kind, double flops) => ByKind[kind] = ByKind.GetValueOrDefault(kind) + flops;
}
