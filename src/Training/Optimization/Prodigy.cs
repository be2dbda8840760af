using Peft.Typed.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Optimization;

/// <summary>
/// Prodigy (Mishchenko and Defazio, arXiv:2306.06101) with the update rule of the <c>prodigyopt</c> package, one
/// parameter group: Adam whose step size is <c>d · lr</c>, where <c>d</c> is estimated from the running sums
/// <c>Σ (d/d0)·dlr·⟨g, x0 − x⟩</c> and <c>|Σ (d/d0)·dlr·g|₁</c>. The learning rate scales that estimate, so it stays near 1.
/// Its state (step, d, d_max, d_numerator and per parameter exp_avg, exp_avg_sq, s, p0) is plain named tensors that
/// checkpoints save and restore exactly.
/// </summary>
public sealed class Prodigy : IOptimizer
{
    private static readonly string[] TensorKinds = ["exp_avg", "exp_avg_sq", "s", "p0"];
    private static readonly string[] Scalars = ["step", "d", "d_max", "d_numerator"];

    private readonly IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter, double WeightDecay)> _parameters;
    private readonly Dictionary<string, ParameterState> _state = new(StringComparer.Ordinal);
    private double _d;
    private double _dMax;
    private double _dNumerator;

    public Prodigy(IEnumerable<(string Name, TorchSharp.Modules.Parameter Parameter)> parameters, ProdigyOptions? options = null,
        double beta1 = 0.9, double beta2 = 0.999, double weightDecay = 0, double epsilon = 1e-8)
        : this([new ParameterGroup(parameters.ToList())], options, beta1, beta2, weightDecay, epsilon)
    {
    }

    /// <summary>
    /// Prodigy over parameter groups with their own weight decay (<paramref name="weightDecay"/> where a group sets none).
    /// Like prodigyopt, one learning rate serves every group: d is estimated over all of them together.
    /// </summary>
    public Prodigy(IEnumerable<ParameterGroup> groups, ProdigyOptions? options = null,
        double beta1 = 0.9, double beta2 = 0.999, double weightDecay = 0, double epsilon = 1e-8)
    {
        var list = groups.ToList();
        if (list.FirstOrDefault(g => g.LearningRateScale != 1) is { } scaled)
            throw new ArgumentException($"Prodigy takes one learning rate for all parameter groups (a group has scale {scaled.LearningRateScale}).", nameof(groups));
        _parameters = [.. ParameterGroup.Flatten(list, weightDecay, nameof(Prodigy)).Select(p => (p.Name, p.Parameter, p.WeightDecay))];
        Options = options ?? new ProdigyOptions();
        if (!(Options.D0 > 0)) throw new ArgumentOutOfRangeException(nameof(options), $"Prodigy's d0 must be > 0, not {Options.D0}.");
        Beta1 = beta1;
        Beta2 = beta2;
        Beta3 = Options.Beta3 ?? Math.Sqrt(beta2);
        WeightDecay = weightDecay;
        Epsilon = epsilon;
        _d = _dMax = Options.D0;
    }

    public ProdigyOptions Options { get; }
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Beta3 { get; }
    /// <summary>The weight decay of groups that set none.</summary>
    public double WeightDecay { get; }
    public double Epsilon { get; }

    /// <summary>The current step-size estimate D (the effective learning rate is D × the learning rate).</summary>
    public double D => _d;

    public long StepCount { get; private set; }

    public IEnumerable<TorchSharp.Modules.Parameter> Parameters => _parameters.Select(p => p.Parameter);

    public void Step(double learningRate)
    {
        var o = Options;
        double biasCorrection = o.UseBiasCorrection ? Math.Sqrt(1 - Math.Pow(Beta2, StepCount + 1)) / (1 - Math.Pow(Beta1, StepCount + 1)) : 1;
        double d = _d;
        double dlr = d * learningRate * biasCorrection;
        double dNumerator = _dNumerator * Beta3;
        double dDenominator = 0;

        using var noGrad = no_grad();
        foreach (var (name, p, weightDecay) in _parameters)
        {
            // Every read of .grad makes a new tensor handle: the scope disposes them too.
            using var scope = NewDisposeScope();
            var grad = p.grad;
            if (grad is null) continue;
            if (weightDecay != 0 && !o.Decouple) grad = grad.clone().AddInPlace(p, alpha: weightDecay);
            if (!_state.TryGetValue(name, out var state))
            {
                state = new ParameterState(zeros_like(p), zeros_like(p), zeros_like(p), p.detach().clone());
                state.DetachFromDisposeScope();
                _state[name] = state;
            }
            if (learningRate <= 0) continue;
            // d / d0 rather than d keeps the sums away from tiny values.
            double scale = d / o.D0;
            dNumerator += scale * dlr * grad.flatten().dot(state.P0.flatten().sub(p.flatten())).ToDouble();
            state.ExpAvg.MulInPlace(Beta1).AddInPlace(grad, alpha: d * (1 - Beta1));
            state.ExpAvgSq.MulInPlace(Beta2).AddcmulInPlace(grad, grad, value: d * d * (1 - Beta2));
            state.S.MulInPlace(Beta3).AddInPlace(grad, alpha: scale * (o.SafeguardWarmup ? d : dlr));
            dDenominator += state.S.abs().sum().ToDouble();
        }

        // No gradient (or a zero learning rate): no progress, and the package leaves d and the step count as they are.
        if (dDenominator == 0) return;

        double dHat = o.DCoef * dNumerator / dDenominator;
        if (d == o.D0) d = Math.Max(d, dHat);
        _dMax = Math.Max(_dMax, dHat);
        _d = Math.Min(_dMax, d * o.GrowthRate);
        _dNumerator = dNumerator;

        foreach (var (name, p, weightDecay) in _parameters)
        {
            using var scope = NewDisposeScope();
            if (p.grad is null) continue;
            var state = _state[name];
            var denominator = state.ExpAvgSq.sqrt().AddInPlace(_d * Epsilon);
            if (weightDecay != 0 && o.Decouple) p.AddInPlace(p, alpha: -weightDecay * dlr);
            // The step uses the step size of the estimate before this update (dlr), the denominator the new one.
            p.AddcdivInPlace(state.ExpAvg, denominator, value: -dlr);
        }
        StepCount++;
    }

    public void ZeroGrad()
    {
        using var scope = NewDisposeScope();
        foreach (var (_, p, _) in _parameters) p.grad?.zero_();
    }

    /// <summary>
    /// <c>step</c> (int64), <c>d</c>, <c>d_max</c>, <c>d_numerator</c> (float64 scalars) and per parameter
    /// <c>name.exp_avg</c>, <c>name.exp_avg_sq</c>, <c>name.s</c>, <c>name.p0</c>.
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["step"] = tensor(StepCount),
            ["d"] = tensor(_d, float64),
            ["d_max"] = tensor(_dMax, float64),
            ["d_numerator"] = tensor(_dNumerator, float64),
        };
        foreach (var (name, state) in _state)
        {
            result[name + ".exp_avg"] = state.ExpAvg;
            result[name + ".exp_avg_sq"] = state.ExpAvgSq;
            result[name + ".s"] = state.S;
            result[name + ".p0"] = state.P0;
        }
        return result;
    }

    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        foreach (var scalar in Scalars)
            if (!state.ContainsKey(scalar)) throw new InvalidDataException($"Optimizer state has no '{scalar}'; it is not Prodigy's.");
        var byName = _parameters.ToDictionary(p => p.Name, p => p.Parameter, StringComparer.Ordinal);
        var unknown = state.Keys.Where(k => !Scalars.Contains(k) && !(TryParameterOf(k, out var parameter) && byName.ContainsKey(parameter))).ToList();
        if (unknown.Count > 0) throw new InvalidDataException($"Optimizer state has entries for unknown parameters: {string.Join(", ", unknown)}.");

        var loaded = new Dictionary<string, ParameterState>(StringComparer.Ordinal);
        foreach (var (name, p) in byName)
        {
            var present = TensorKinds.Where(kind => state.ContainsKey($"{name}.{kind}")).ToList();
            if (present.Count == 0) continue;
            if (present.Count != TensorKinds.Length) throw new InvalidDataException($"Optimizer state for '{name}' is incomplete.");
            Tensor Get(string kind)
            {
                var t = state[$"{name}.{kind}"];
                if (!t.shape.SequenceEqual(p.shape))
                    throw new InvalidDataException($"Optimizer state '{name}.{kind}' has shape [{string.Join(", ", t.shape)}], the parameter [{string.Join(", ", p.shape)}].");
                return t;
            }
            var tensors = TensorKinds.Select(Get).ToList();
            loaded[name] = new ParameterState(tensors[0], tensors[1], tensors[2], tensors[3]);
        }

        Dispose();
        StepCount = state["step"].ToInt64();
        _d = state["d"].ToDouble();
        _dMax = state["d_max"].ToDouble();
        _dNumerator = state["d_numerator"].ToDouble();
        foreach (var (name, s) in loaded)
        {
            var device = byName[name].device;
            var copy = new ParameterState(s.ExpAvg.to(device).clone(), s.ExpAvgSq.to(device).clone(), s.S.to(device).clone(), s.P0.to(device).clone());
            copy.DetachFromDisposeScope();
            _state[name] = copy;
        }
    }

    private static bool TryParameterOf(string stateKey, out string parameter)
    {
        foreach (var kind in TensorKinds.OrderByDescending(k => k.Length))
        {
            if (stateKey.EndsWith("." + kind, StringComparison.Ordinal))
            {
                parameter = stateKey[..^(kind.Length + 1)];
                return true;
            }
        }
        parameter = "";
        return false;
    }

    public void Dispose()
    {
        foreach (var state in _state.Values) state.Dispose();
        _state.Clear();
    }

    private sealed record ParameterState(Tensor ExpAvg, Tensor ExpAvgSq, Tensor S, Tensor P0) : IDisposable
    {
        public void DetachFromDisposeScope()
        {
            ExpAvg.DetachFromDisposeScope();
            ExpAvgSq.DetachFromDisposeScope();
            S.DetachFromDisposeScope();
            P0.DetachFromDisposeScope();
        }

        public void Dispose()
        {
            ExpAvg.Dispose();
            ExpAvgSq.Dispose();
            S.Dispose();
            P0.Dispose();
        }
    }
}
