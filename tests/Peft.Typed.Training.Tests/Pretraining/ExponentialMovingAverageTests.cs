using Peft.Typed.Training.Pretraining;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Tests.Pretraining;

public class ExponentialMovingAverageTests
{
    [Fact]
    public void The_average_warms_up_then_decays_at_the_given_rate_and_replaces_the_parameters_on_copy()
    {
        using var parameter = new TorchSharp.Modules.Parameter(tensor(new[] { 0f, 10f }));
        using var ema = new ExponentialMovingAverage([parameter], decay: 0.9);
        double[] expected = [0, 10];
        var values = new[] { new[] { 1f, 2f }, new[] { 3f, -4f }, new[] { 5f, 6f }, new[] { 7f, 8f } };
        for (int n = 1; n <= values.Length; n++)
        {
            using (no_grad()) parameter.copy_(tensor(values[n - 1]));
            ema.Update();
            // The warm-up shape of diffusers' EMAModel, counted from the first update: min(decay, (1 + n) / (10 + n)).
            double decay = Math.Min(0.9, (1.0 + n) / (10.0 + n));
            for (int i = 0; i < 2; i++) expected[i] = decay * expected[i] + (1 - decay) * values[n - 1][i];
        }
        ema.CopyTo();
        var actual = parameter.data<float>().ToArray();
        for (int i = 0; i < 2; i++) Assert.Equal(expected[i], actual[i], 5);
    }
}
