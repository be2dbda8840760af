using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Optimization;

/// <summary>
/// AdamW with PyTorch's update rule (decoupled weight decay, bias-corrected moments). Written here rather than
/// using TorchSharp's so its state (step, exp_avg, exp_avg_sq) is plain named tensors that checkpoints save and
/// restore exactly, which makes a resumed run bit-identical to an uninterrupted one.
/// </summary>
public sealed class AdamW : IOptimizer
{
    private readonly IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter, double LearningRateScale, double WeightDecay)> _parameters;
    private readonly Dictionary<string, (Tensor ExpAvg, Tensor ExpAvgSq)> _state = new(StringComparer.Ordinal);

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
        double bias1 = 1 - Math.Pow(Beta1, StepCount);
        double bias2 = 1 - Math.Pow(Beta2, StepCount);
        using var noGrad = no_grad();
        foreach (var (name, p, scale, weightDecay) in _parameters)
        {
            double lr = learningRate * scale;
            // Every read of .grad makes a new tensor handle: the scope disposes them too.
            using var scope = NewDisposeScope();
            var grad = p.grad;
            if (grad is null) continue;
            if (!_state.TryGetValue(name, out var state))
            {
                state = (zeros_like(p).DetachFromDisposeScope(), zeros_like(p).DetachFromDisposeScope());
                _state[name] = state;
            }
            p.MulInPlace(1 - lr * weightDecay);
            state.ExpAvg.MulInPlace(Beta1).AddInPlace(grad, alpha: 1 - Beta1);
            state.ExpAvgSq.MulInPlace(Beta2).AddcmulInPlace(grad, grad, value: 1 - Beta2);
            var denominator = state.ExpAvgSq.sqrt().Div(Math.Sqrt(bias2)).AddInPlace(Epsilon);
            p.AddcdivInPlace(state.ExpAvg, denominator, value: -lr / bias1);
        }
    }

    public void ZeroGrad()
    {
        using var scope = NewDisposeScope();
        foreach (var (_, p, _, _) in _parameters) p.grad?.zero_();
    }

    /// <summary>The state as named tensors (<c>name.exp_avg</c>, <c>name.exp_avg_sq</c>) plus the step count, for checkpoints.</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal) { ["step"] = tensor(StepCount) };
        foreach (var (name, (m, v)) in _state)
        {
            result[name + ".exp_avg"] = m;
            result[name + ".exp_avg_sq"] = v;
        }
        return result;
    }

    /// <summary>Restores <see cref="StateDict"/>; every tensor must belong to a parameter of this optimizer.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        if (!state.TryGetValue("step", out var step)) throw new InvalidDataException("Optimizer state has no 'step'.");
        Dispose();
        StepCount = step.item<long>();
        var byName = _parameters.ToDictionary(p => p.Name, p => p.Parameter, StringComparer.Ordinal);
        foreach (var (name, p) in byName)
        {
            bool hasAvg = state.TryGetValue(name + ".exp_avg", out var m);
            bool hasSq = state.TryGetValue(name + ".exp_avg_sq", out var v);
            if (hasAvg != hasSq) throw new InvalidDataException($"Optimizer state for '{name}' is incomplete.");
            if (!hasAvg) continue;
            if (!m!.shape.SequenceEqual(p.shape) || !v!.shape.SequenceEqual(p.shape))
                throw new InvalidDataException($"Optimizer state for '{name}' has shape [{string.Join(", ", m.shape)}], the parameter [{string.Join(", ", p.shape)}].");
            _state[name] = (m.to(p.device).clone().DetachFromDisposeScope(), v.to(p.device).clone().DetachFromDisposeScope());
        }
        var unknown = state.Keys.Where(k => k != "step" && !byName.ContainsKey(ParameterOf(k))).ToList();
        if (unknown.Count > 0) throw new InvalidDataException($"Optimizer state has entries for unknown parameters: {string.Join(", ", unknown)}.");
    }

    private static string ParameterOf(string stateKey)
    {
        int suffix = stateKey.LastIndexOf(".exp_avg", StringComparison.Ordinal);
        return suffix < 0 ? stateKey : stateKey[..suffix];
    }

    public void Dispose()
    {
        foreach (var (m, v) in _state.Values)
        {
            m.Dispose();
            v.Dispose();
        }
        _state.Clear();
    }
}
