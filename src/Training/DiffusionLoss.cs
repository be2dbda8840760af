using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Schedulers;
using static TorchSharp.torch;

namespace Peft.Typed.Training;

/// <summary>
/// The DreamBooth objective of diffusers' script: MSE between the UNet prediction and the target (the noise, or the
/// velocity for v-prediction), optionally Min-SNR weighted, plus the prior-preservation term on the class half of the
/// batch.
/// </summary>
public static class DiffusionLoss
{
    /// <param name="prediction">UNet output for the whole batch (instance examples first, then class examples).</param>
    /// <param name="target">The matching targets.</param>
    /// <param name="timesteps">The timesteps of the batch, [B].</param>
    /// <param name="alphasCumprod">The noise scheduler's ᾱ, for Min-SNR weighting.</param>
    /// <param name="priorExamples">How many trailing examples are class (prior) examples; 0 without prior preservation.</param>
    public static (Tensor Loss, Tensor? PriorLoss) Compute(Tensor prediction, Tensor target, Tensor timesteps, Tensor alphasCumprod,
        PredictionType predictionType, double? snrGamma, int priorExamples, double priorLossWeight)
    {
        long batch = prediction.shape[0];
        long instances = batch - priorExamples;
        var instancePrediction = prediction.narrow(0, 0, instances).to_type(ScalarType.Float32);
        var instanceTarget = target.narrow(0, 0, instances).to_type(ScalarType.Float32);

        Tensor loss;
        if (snrGamma is { } gamma)
        {
            var ac = alphasCumprod.to(timesteps.device)[timesteps.narrow(0, 0, instances)];
            var snr = ac / ac.RSub(1);
            var weight = minimum(snr, TensorArithmetic.FullLike(snr, gamma)) / snr;
            // diffusers: the velocity objective is floored to an SNR weight of one.
            if (predictionType == PredictionType.VPrediction) weight = weight.Add(1);
            var perExample = nn.functional.mse_loss(instancePrediction, instanceTarget, nn.Reduction.None).mean([1, 2, 3]);
            loss = (perExample * weight).mean();
        }
        else
        {
            loss = nn.functional.mse_loss(instancePrediction, instanceTarget);
        }

        if (priorExamples == 0) return (loss, null);
        var priorLoss = nn.functional.mse_loss(
            prediction.narrow(0, instances, priorExamples).to_type(ScalarType.Float32),
            target.narrow(0, instances, priorExamples).to_type(ScalarType.Float32));
        return (loss.Add(priorLoss.Mul(priorLossWeight)), priorLoss);
    }
}
