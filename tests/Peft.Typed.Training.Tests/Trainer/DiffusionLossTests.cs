using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Training;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Tests.Trainer;

public class DiffusionLossTests
{
    [Fact]
    public void Prior_preservation_adds_the_weighted_class_term()
    {
        using var scope = NewDisposeScope();
        // Two instance examples with squared errors 1 and 4 (per element), two class examples with 9 and 16.
        var prediction = cat([TensorArithmetic.Full([1, 4, 2, 2], 1), TensorArithmetic.Full([1, 4, 2, 2], 2), TensorArithmetic.Full([1, 4, 2, 2], 3), TensorArithmetic.Full([1, 4, 2, 2], 4)], 0);
        var target = zeros(4, 4, 2, 2);
        var timesteps = tensor(new long[] { 1, 2, 3, 4 });
        var alphas = linspace(0.99, 0.01, 1000);

        var (withPrior, prior) = DiffusionLoss.Compute(prediction, target, timesteps, alphas, PredictionType.Epsilon, snrGamma: null, priorExamples: 2, priorLossWeight: 0.5);
        var (instanceOnly, none) = DiffusionLoss.Compute(prediction.narrow(0, 0, 2), target.narrow(0, 0, 2), timesteps.narrow(0, 0, 2), alphas, PredictionType.Epsilon, null, 0, 0.5);

        Assert.Null(none);
        Assert.Equal(2.5f, instanceOnly.item<float>(), 5);
        Assert.Equal(12.5f, prior!.item<float>(), 5);
        Assert.Equal(2.5f + 0.5f * 12.5f, withPrior.item<float>(), 5);
    }

    [Fact]
    public void Min_snr_weighting_follows_the_diffusers_formula()
    {
        using var scope = NewDisposeScope();
        var prediction = ones(2, 1, 1, 1);
        var target = zeros(2, 1, 1, 1);
        var alphas = tensor(new float[] { 0.9f, 0.5f });
        var timesteps = tensor(new long[] { 0, 1 });
        // snr = a/(1-a): 9 and 1; weight = min(snr, 5)/snr: 5/9 and 1 (epsilon); +1 for v-prediction.
        var (eps, _) = DiffusionLoss.Compute(prediction, target, timesteps, alphas, PredictionType.Epsilon, snrGamma: 5, priorExamples: 0, priorLossWeight: 1);
        var (v, _) = DiffusionLoss.Compute(prediction, target, timesteps, alphas, PredictionType.VPrediction, snrGamma: 5, priorExamples: 0, priorLossWeight: 1);
        Assert.Equal((5.0 / 9 + 1) / 2, eps.item<float>(), 5);
        Assert.Equal((5.0 / 9 + 1 + 2) / 2, v.item<float>(), 5);
    }
}
