using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Optimization;

/// <summary>
/// AdamW with PyTorch's update rule (decoupled weight decay, bias-corrected moments). Written here rather than
/// using TorchSharp's so its state (step, exp_avg, exp_avg_sq) is plain named tensors that checkpoints save and
/// restore exactly, which makes a resumed run bit-identical to an uninterrupted one.
/// </summary>
/// <remarks>
/// The update runs on <see cref="ParameterChunk"/>s: the nine elementwise calls once per chunk of concatenated
/// parameters, in the same order per element as on one parameter, so the result is the same to the bit.
/// </remarks>
public sealed class AdamW : IOptimizer
{
    private readonly IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter, double LearningRateScale, double WeightDecay)> _parameters;
    private List<ParameterChunk>? _chunks;
    private const int ExpAvgKind = 0, ExpAvgSqKind = 1;

    public AdamW(IEnumerable<(string Name, TorchSharp.Modules.Parameter Parameter)> parameters, double beta1 = 0.9, double beta2 = 0.999, double weightDecay = 1e-2, double epsilon = 1e-8)
        : this([new ParameterGroup(parameters.ToList())], beta1, beta2, weightDecay, epsilon)
    {
    }

    /// <summary>AdamW over parameter groups with their own learning-rate scale and weight decay (<paramref name="weightDecay"/> where a group sets none).</summary>
    public AdamW(IEnumerable<ParameterGroup> groups, double beta1 = 0.9, double beta2 = 0.999, double weightDecay = 1e-2, double epsilon = 1e-8)
    {
        _parameters = ParameterGroup.Flatten(groups, weightDecay, nameof(AdamW));
        Beta1 = beta1;
        Beta2 = beta2;
        WeightDecay = weightDecay;
        Epsilon = epsilon;
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    /// <summary>The weight decay of groups that set none.</summary>
    public double WeightDecay { get; }
    public double Epsilon { get; }

    /// <summary>Number of updates applied so far.</summary>
    public long StepCount { get; private set; }

    public IEnumerable<TorchSharp.Modules.Parameter> Parameters => _parameters.Select(p => p.Parameter);

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/> to every parameter that has a gradient.</summary>
    public void Step(double learningRate)
    {
        StepCount++;
        using var noGrad = no_grad();
        foreach (var chunk in Chunks())
        {
            // Every read of .grad makes a new tensor handle: the scope disposes them too.
            using var scope = NewDisposeScope();
            var parameters = chunk.Parameters;
            var grads = chunk.Grads();
            if (grads.All(g => g is null)) continue;
            double lr = learningRate * chunk.LearningRateScale;
            var (expAvg, expAvgSq) = (chunk.Buffer(ExpAvgKind), chunk.Buffer(ExpAvgSqKind));
            var steps = chunk.Steps;
            // A parameter that missed a step keeps its chunk on the per-parameter path (as fast as before chunks).
            if (chunk.Together(grads) && steps.All(s => s == steps[0]))
            {
                var (bias1, bias2) = BiasCorrections(steps[0] + 1);
                var values = ParameterChunk.Concatenate(parameters);
                Update(values, expAvg, expAvgSq, ParameterChunk.Concatenate(grads!), lr, chunk.WeightDecay, bias1, bias2);
                chunk.CopyBack(values);
            }
            else
            {
                for (int i = 0; i < parameters.Length; i++)
                {
                    if (grads[i] is not { } grad) continue;
                    var (bias1, bias2) = BiasCorrections(steps[i] + 1);
                    Update(parameters[i], chunk.View(expAvg, i), chunk.View(expAvgSq, i), grad, lr, chunk.WeightDecay, bias1, bias2);
                }
            }
            chunk.CountStep(grads);
        }
    }

    /// <summary>Adam's bias corrections at a parameter's own step, counted from 1 (torch keeps a step per parameter).</summary>
    private (double Bias1, double Bias2) BiasCorrections(long step) => (1 - Math.Pow(Beta1, step), 1 - Math.Pow(Beta2, step));

    /// <summary>One AdamW update of <paramref name="p"/> in place, elementwise (a parameter or a chunk's concatenation).</summary>
    private void Update(Tensor p, Tensor expAvg, Tensor expAvgSq, Tensor grad, double lr, double weightDecay, double bias1, double bias2)
    {
        p.MulInPlace(1 - lr * weightDecay);
        expAvg.MulInPlace(Beta1).AddInPlace(grad, alpha: 1 - Beta1);
        expAvgSq.MulInPlace(Beta2).AddcmulInPlace(grad, grad, value: 1 - Beta2);
        var denominator = expAvgSq.sqrt().Div(Math.Sqrt(bias2)).AddInPlace(Epsilon);
        p.AddcdivInPlace(expAvg, denominator, value: -lr / bias1);
    }

    public void ZeroGrad()
    {
        using var scope = NewDisposeScope();
        foreach (var (_, p, _, _) in _parameters) p.grad?.zero_();
    }

    /// <summary>
    /// The state as named tensors (<c>name.exp_avg</c>, <c>name.exp_avg_sq</c>) plus the step count, for checkpoints; a
    /// parameter that missed updates (no gradient in some steps) also has its own count, <c>name.step</c>.
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal) { ["step"] = tensor(StepCount) };
        foreach (var chunk in Chunks())
        {
            for (int i = 0; i < chunk.Names.Length; i++)
            {
                if (chunk.Steps[i] == 0) continue;
                result[chunk.Names[i] + ".exp_avg"] = chunk.View(chunk.Buffer(ExpAvgKind), i);
                result[chunk.Names[i] + ".exp_avg_sq"] = chunk.View(chunk.Buffer(ExpAvgSqKind), i);
                if (chunk.Steps[i] != StepCount) result[chunk.Names[i] + StepSuffix] = tensor(chunk.Steps[i]);
            }
        }
        return result;
    }

    /// <summary>Restores <see cref="StateDict"/>; every tensor must belong to a parameter of this optimizer.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        if (!state.TryGetValue("step", out var step)) throw new InvalidDataException("Optimizer state has no 'step'.");
        var byName = _parameters.ToDictionary(p => p.Name, p => p.Parameter, StringComparer.Ordinal);
        var unknown = state.Keys.Where(k => k != "step" && !byName.ContainsKey(ParameterOf(k))).ToList();
        if (unknown.Count > 0) throw new InvalidDataException($"Optimizer state has entries for unknown parameters: {string.Join(", ", unknown)}.");
        foreach (var (name, p) in byName)
        {
            bool hasAvg = state.TryGetValue(name + ".exp_avg", out var m);
            bool hasSq = state.TryGetValue(name + ".exp_avg_sq", out var v);
            if (hasAvg != hasSq || (state.ContainsKey(name + StepSuffix) && !hasAvg)) throw new InvalidDataException($"Optimizer state for '{name}' is incomplete.");
            if (hasAvg && (!m!.shape.SequenceEqual(p.shape) || !v!.shape.SequenceEqual(p.shape)))
                throw new InvalidDataException($"Optimizer state for '{name}' has shape [{string.Join(", ", m.shape)}], the parameter [{string.Join(", ", p.shape)}].");
        }
        long stepCount = Count(step, "step", 0);
        var own = byName.Keys.Where(name => state.ContainsKey(name + StepSuffix)).ToDictionary(name => name, name => Count(state[name + StepSuffix], name + StepSuffix, 1));
        Dispose();
        StepCount = stepCount;
        using var noGrad = no_grad();
        foreach (var chunk in Chunks())
        {
            using var scope = NewDisposeScope();
            for (int i = 0; i < chunk.Names.Length; i++)
            {
                if (!state.TryGetValue(chunk.Names[i] + ".exp_avg", out var m)) continue;
                chunk.View(chunk.Buffer(ExpAvgKind), i).copy_(m);
                chunk.View(chunk.Buffer(ExpAvgSqKind), i).copy_(state[chunk.Names[i] + ".exp_avg_sq"]);
                chunk.Steps[i] = own.GetValueOrDefault(chunk.Names[i], stepCount);
            }
        }
    }

    private const string StepSuffix = ".step";

    /// <summary>A step count read from the state: one integer of at least <paramref name="minimum"/>.</summary>
    private static long Count(Tensor value, string key, long minimum)
    {
        if (value.numel() != 1 || value.dtype is not (ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte))
            throw new InvalidDataException($"Optimizer state '{key}' must be one integer >= {minimum}; it is a {value.dtype} tensor of shape [{string.Join(", ", value.shape)}].");
        long count = value.to_type(ScalarType.Int64).item<long>();
        if (count < minimum) throw new InvalidDataException($"Optimizer state '{key}' must be one integer >= {minimum}; it is {count}.");
        return count;
    }

    private static string ParameterOf(string stateKey)
    {
        if (stateKey.EndsWith(StepSuffix, StringComparison.Ordinal)) return stateKey[..^StepSuffix.Length];
        int suffix = stateKey.LastIndexOf(".exp_avg", StringComparison.Ordinal);
        return suffix < 0 ? stateKey : stateKey[..suffix];
    }

    public void Dispose()
    {
        foreach (var chunk in _chunks ?? []) chunk.Dispose();
        _chunks = null;
    }

    /// <summary>
    /// The chunks, formed on first use from the parameters' dtype and device at that time (a model moved to another
    /// device after the optimizer was made still gets its state there, as per-parameter state created on first use did).
    /// </summary>
    private List<ParameterChunk> Chunks() => _chunks ??= ParameterChunk.Form(_parameters, bufferKinds: 2);
}
