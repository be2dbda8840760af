using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Pretraining;

/// <summary>
/// Shadow copies of parameters that follow them with decay <c>min(decay, (1 + n) / (10 + n))</c> after the n-th update
/// (the warm-up shape of diffusers' <c>EMAModel</c>, which counts from 0); diffusion models sample better from the average.
/// </summary>
internal sealed class ExponentialMovingAverage : IDisposable
{
    private readonly IReadOnlyList<TorchSharp.Modules.Parameter> _parameters;
    private readonly List<Tensor> _shadow;
    private readonly double _decay;
    private long _updates;

    public ExponentialMovingAverage(IReadOnlyList<TorchSharp.Modules.Parameter> parameters, double decay)
    {
        _parameters = parameters;
        _decay = decay;
        using var noGrad = no_grad();
        _shadow = parameters.Select(p => p.detach().clone().DetachFromDisposeScope()).ToList();
    }

    public void Update()
    {
        _updates++;
        double decay = Math.Min(_decay, (1.0 + _updates) / (10.0 + _updates));
        using var noGrad = no_grad();
        for (int i = 0; i < _shadow.Count; i++) _shadow[i].MulInPlace(decay).AddInPlace(_parameters[i], 1 - decay);
    }

    /// <summary>Replaces the parameters' values with their averages.</summary>
    public void CopyTo()
    {
        using var noGrad = no_grad();
        for (int i = 0; i < _shadow.Count; i++) _parameters[i].copy_(_shadow[i]);
    }

    public void Dispose()
    {
        foreach (var t in _shadow) t.Dispose();
    }
}
