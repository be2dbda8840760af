using static TorchSharp.torch;

namespace Peft.Typed.Training.Optimization;

/// <summary>
/// Consecutive parameters of an optimizer that share a group's settings, a dtype and a device, which an update handles
/// together: their gradients and values concatenated, each elementwise operation run once for the chunk, the values
/// copied back. An adapter has hundreds of small tensors, and per tensor the operations cost more in per-call overhead
/// than in arithmetic (docs/perf.md, "The optimizer step"). The optimizer's per-parameter state lives in flat buffers,
/// one per kind; each parameter's is a view of it.
/// </summary>
internal sealed class ParameterChunk : IDisposable
{
    /// <summary>Elements per chunk at most (16 MiB of float32), which bounds the concatenated copies; a larger parameter is a chunk of its own.</summary>
    public const long MaxElements = 1L << 22;

    private readonly long[] _offsets;
    private readonly Tensor?[] _buffers;

    private ParameterChunk(IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter)> members, int bufferKinds, double learningRateScale, double weightDecay)
    {
        Names = members.Select(m => m.Name).ToArray();
        Parameters = members.Select(m => m.Parameter).ToArray();
        Sizes = Parameters.Select(p => p.numel()).ToArray();
        _offsets = new long[Sizes.Length];
        for (int i = 1; i < Sizes.Length; i++) _offsets[i] = _offsets[i - 1] + Sizes[i - 1];
        _buffers = new Tensor?[bufferKinds];
        Steps = new long[Sizes.Length];
        LearningRateScale = learningRateScale;
        WeightDecay = weightDecay;
    }

    public string[] Names { get; }
    public TorchSharp.Modules.Parameter[] Parameters { get; }
    public long[] Sizes { get; }
    /// <summary>
    /// Steps in which parameter i had a gradient (0: no state yet, so not in the state dict, as in torch's); an optimizer
    /// that saves no per-parameter count restores it as its own.
    /// </summary>
    public long[] Steps { get; }
    public double LearningRateScale { get; }
    public double WeightDecay { get; }

    /// <summary>
    /// The chunks of <paramref name="parameters"/> in order, from their dtype and device now, each with
    /// <paramref name="bufferKinds"/> flat state buffers.
    /// </summary>
    public static List<ParameterChunk> Form(IEnumerable<(string Name, TorchSharp.Modules.Parameter Parameter, double LearningRateScale, double WeightDecay)> parameters, int bufferKinds)
    {
        var chunks = new List<ParameterChunk>();
        var members = new List<(string Name, TorchSharp.Modules.Parameter Parameter)>();
        long elements = 0;
        (double, double, ScalarType, TorchSharp.DeviceType, int)? key = null;
        foreach (var (name, p, scale, weightDecay) in parameters)
        {
            var next = (scale, weightDecay, p.dtype, p.device_type, p.device_index);
            if (members.Count > 0 && (!next.Equals(key) || elements + p.numel() > MaxElements))
            {
                chunks.Add(new ParameterChunk(members, bufferKinds, key!.Value.Item1, key.Value.Item2));
                members = [];
                elements = 0;
            }
            members.Add((name, p));
            elements += p.numel();
            key = next;
        }
        if (members.Count > 0) chunks.Add(new ParameterChunk(members, bufferKinds, key!.Value.Item1, key.Value.Item2));
        return chunks;
    }

    /// <summary>The gradients (null where a parameter has none), as new handles in the caller's dispose scope.</summary>
    public Tensor?[] Grads() => Parameters.Select(p => p.grad).ToArray();

    /// <summary>True where the chunk can be updated as one: several parameters, each with a gradient.</summary>
    public bool Together(Tensor?[] grads) => Parameters.Length > 1 && grads.All(g => g is not null);

    /// <summary>Counts a step for each parameter that has a gradient in it.</summary>
    public void CountStep(Tensor?[] grads)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            if (grads[i] is not null) Steps[i]++;
        }
    }

    /// <summary>The concatenation of per-parameter tensors (values or gradients), flattened in parameter order.</summary>
    public static Tensor Concatenate(IEnumerable<Tensor> tensors) => cat(tensors.Select(t => t.reshape(-1)).ToList(), 0);

    /// <summary>Copies a concatenation of new values back into the parameters.</summary>
    public void CopyBack(Tensor values)
    {
        var parts = values.split(Sizes);
        for (int i = 0; i < Parameters.Length; i++) Parameters[i].copy_(parts[i].view(Parameters[i].shape));
    }

    /// <summary>State buffer <paramref name="kind"/>, flat, zero-filled on first use.</summary>
    public Tensor Buffer(int kind) =>
        _buffers[kind] ??= zeros(Sizes.Sum(), Parameters[0].dtype, Parameters[0].device).DetachFromDisposeScope();

    /// <summary>Parameter i's part of a flat buffer, in the parameter's shape.</summary>
    public Tensor View(Tensor flat, int i) => flat.narrow(0, _offsets[i], Sizes[i]).view(Parameters[i].shape);

    public void Dispose()
    {
        for (int kind = 0; kind < _buffers.Length; kind++)
        {
            _buffers[kind]?.Dispose();
            _buffers[kind] = null;
        }
        Array.Clear(Steps);
    }
}
