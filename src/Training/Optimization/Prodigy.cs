using Peft.Typed.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Optimization;

/// <summary>
/// Prodigy (Mishchenko and Defazio, arXiv:2306.06101) with the update rule of the <c>prodigyopt</c> package, one
/// parameter group: Adam whose step size is <c>d · lr</c>, where <c>d</c> is estimated from the running sums
/// <c>Σ (d/d0)·dlr·⟨g, x0 − x⟩</c> and <c>|Σ (d/d0)·dlr·g|₁</c>. The learning rate scales that estimate, so it stays near 1.
/// Its state (step, d, d_max, d_numerator and per parameter exp_avg, exp_avg_sq, s, p0) is plain named tensors that
/// checkpoints save and restore exactly. Parameters are updated in <see cref="ParameterChunk"/>s, whose sums for d are
/// taken per chunk.
/// </summary>
public sealed class Prodigy : IOptimizer
{
    private static readonly string[] TensorKinds = ["exp_avg", "exp_avg_sq", "s", "p0"];
    private static readonly string[] Scalars = ["step", "d", "d_max", "d_numerator"];

    private const int ExpAvgKind = 0, ExpAvgSqKind = 1, SKind = 2, P0Kind = 3;

    private readonly IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter, double WeightDecay)> _parameters;
    private List<ParameterChunk>? _chunks;
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
        // d / d0 rather than d keeps the sums away from tiny values.
        double scale = d / o.D0;

        using var noGrad = no_grad();
        // The concatenated values of the chunks updated together wait here for the step after d's new estimate.
        using var stepScope = NewDisposeScope();
        var pending = new List<(ParameterChunk Chunk, bool[] HasGrad, Tensor? Values)>();
        foreach (var chunk in Chunks())
        {
            // Every read of .grad makes a new tensor handle: the scope disposes them, and the chunk's temporaries.
            using var scope = NewDisposeScope();
            var grads = chunk.Grads();
            if (grads.All(g => g is null)) continue;
            var hasGrad = grads.Select(g => g is not null).ToArray();
            var (expAvg, expAvgSq, s, p0) = (chunk.Buffer(ExpAvgKind), chunk.Buffer(ExpAvgSqKind), chunk.Buffer(SKind), chunk.Buffer(P0Kind));
            for (int i = 0; i < grads.Length; i++)
            {
                // x0: the parameter when it first has a gradient (the moments and s start at the buffers' zeros).
                if (grads[i] is not null && chunk.Steps[i] == 0) chunk.View(p0, i).copy_(chunk.Parameters[i]);
            }
            bool together = chunk.Together(grads);
            chunk.CountStep(grads);
            if (learningRate <= 0) continue;
            if (together)
            {
                var values = ParameterChunk.Concatenate(chunk.Parameters);
                var grad = ParameterChunk.Concatenate(grads!);
                Accumulate(grad, values, expAvg, expAvgSq, s, p0, chunk.WeightDecay, d, dlr, scale, ref dNumerator, ref dDenominator);
                pending.Add((chunk, hasGrad, values.MoveToOuterDisposeScope()));
                continue;
            }
            for (int i = 0; i < grads.Length; i++)
            {
                if (grads[i] is not { } grad) continue;
                var p = chunk.Parameters[i];
                if (chunk.WeightDecay != 0 && !o.Decouple) grad = grad.clone();
                Accumulate(grad, p, chunk.View(expAvg, i), chunk.View(expAvgSq, i), chunk.View(s, i), chunk.View(p0, i), chunk.WeightDecay, d, dlr, scale, ref dNumerator, ref dDenominator);
            }
            pending.Add((chunk, hasGrad, null));
        }

        // No gradient (or a zero learning rate): no progress, and the package leaves d and the step count as they are.
        if (dDenominator == 0) return;

        double dHat = o.DCoef * dNumerator / dDenominator;
        if (d == o.D0) d = Math.Max(d, dHat);
        _dMax = Math.Max(_dMax, dHat);
        _d = Math.Min(_dMax, d * o.GrowthRate);
        _dNumerator = dNumerator;

        foreach (var (chunk, hasGrad, values) in pending)
        {
            using var scope = NewDisposeScope();
            var (expAvg, expAvgSq) = (chunk.Buffer(ExpAvgKind), chunk.Buffer(ExpAvgSqKind));
            if (values is not null)
            {
                Update(values, expAvg, expAvgSq, chunk.WeightDecay, dlr);
                chunk.CopyBack(values);
                continue;
            }
            for (int i = 0; i < hasGrad.Length; i++)
            {
                if (hasGrad[i]) Update(chunk.Parameters[i], chunk.View(expAvg, i), chunk.View(expAvgSq, i), chunk.WeightDecay, dlr);
            }
        }
        StepCount++;
    }

    /// <summary>
    /// The first half of a step on a parameter or a chunk's concatenation: its terms of d's sums and the moments. A coupled
    /// weight decay is added into <paramref name="grad"/>, which must be the caller's own tensor then.
    /// </summary>
    private void Accumulate(Tensor grad, Tensor p, Tensor expAvg, Tensor expAvgSq, Tensor s, Tensor p0, double weightDecay,
        double d, double dlr, double scale, ref double dNumerator, ref double dDenominator)
    {
        var o = Options;
        if (weightDecay != 0 && !o.Decouple) grad.AddInPlace(p, alpha: weightDecay);
        dNumerator += scale * dlr * grad.flatten().dot(p0.flatten().sub(p.flatten())).ToDouble();
        expAvg.MulInPlace(Beta1).AddInPlace(grad, alpha: d * (1 - Beta1));
        expAvgSq.MulInPlace(Beta2).AddcmulInPlace(grad, grad, value: d * d * (1 - Beta2));
        s.MulInPlace(Beta3).AddInPlace(grad, alpha: scale * (o.SafeguardWarmup ? d : dlr));
        dDenominator += s.abs().sum().ToDouble();
    }

    /// <summary>The second half: the Adam step with the step size of the estimate before this update (dlr), the denominator the new one.</summary>
    private void Update(Tensor p, Tensor expAvg, Tensor expAvgSq, double weightDecay, double dlr)
    {
        var denominator = expAvgSq.sqrt().AddInPlace(_d * Epsilon);
        if (weightDecay != 0 && Options.Decouple) p.AddInPlace(p, alpha: -weightDecay * dlr);
        p.AddcdivInPlace(expAvg, denominator, value: -dlr);
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
        foreach (var chunk in Chunks())
        {
            for (int i = 0; i < chunk.Names.Length; i++)
            {
                if (chunk.Steps[i] == 0) continue;
                for (int kind = 0; kind < TensorKinds.Length; kind++) result[$"{chunk.Names[i]}.{TensorKinds[kind]}"] = chunk.View(chunk.Buffer(kind), i);
            }
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

        foreach (var (name, p) in byName)
        {
            var present = TensorKinds.Where(kind => state.ContainsKey($"{name}.{kind}")).ToList();
            if (present.Count == 0) continue;
            if (present.Count != TensorKinds.Length) throw new InvalidDataException($"Optimizer state for '{name}' is incomplete.");
            foreach (var kind in TensorKinds)
            {
                var t = state[$"{name}.{kind}"];
                if (!t.shape.SequenceEqual(p.shape))
                    throw new InvalidDataException($"Optimizer state '{name}.{kind}' has shape [{string.Join(", ", t.shape)}], the parameter [{string.Join(", ", p.shape)}].");
            }
        }

        Dispose();
        StepCount = state["step"].ToInt64();
        _d = state["d"].ToDouble();
        _dMax = state["d_max"].ToDouble();
        _dNumerator = state["d_numerator"].ToDouble();
        using var noGrad = no_grad();
        foreach (var chunk in Chunks())
        {
            using var scope = NewDisposeScope();
            for (int i = 0; i < chunk.Names.Length; i++)
            {
                if (!state.ContainsKey($"{chunk.Names[i]}.{TensorKinds[0]}")) continue;
                for (int kind = 0; kind < TensorKinds.Length; kind++) chunk.View(chunk.Buffer(kind), i).copy_(state[$"{chunk.Names[i]}.{TensorKinds[kind]}"]);
                // Prodigy keeps no count per parameter; any count above 0 marks the state as present.
                chunk.Steps[i] = Math.Max(1, StepCount);
            }
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
        foreach (var chunk in _chunks ?? []) chunk.Dispose();
        _chunks = null;
    }

    /// <summary>The chunks, formed on first use (as <see cref="AdamW"/>'s); one learning rate for all, so no scale.</summary>
    private List<ParameterChunk> Chunks() => _chunks ??= ParameterChunk.Form(_parameters.Select(p => (p.Name, p.Parameter, 1.0, p.WeightDecay)), TensorKinds.Length);
}
