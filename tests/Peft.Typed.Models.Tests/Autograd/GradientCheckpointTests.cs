using Peft.Typed.Models.Autograd;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Autograd;

[Collection(GlobalGeneratorCollection.Name)]
public class GradientCheckpointTests
{
    private static nn.Module<Tensor, Tensor> Block(int channels, double dropout) => nn.Sequential(
        nn.Conv2d(channels, channels, 3, padding: 1), nn.SiLU(), nn.Dropout(dropout), nn.Conv2d(channels, channels, 3, padding: 1), nn.SiLU());

    [Fact]
    public void Gradients_equal_the_plain_backward_including_dropout()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        var blocks = Enumerable.Range(0, 3).Select(_ => Block(8, 0.3)).ToList();
        var input = randn(2, 8, 12, 12).requires_grad_();

        (Tensor Input, List<Tensor> Params) Grads(bool checkpoint)
        {
            input.grad?.zero_();
            foreach (var b in blocks) b.zero_grad();
            manual_seed(5);
            var h = input;
            foreach (var b in blocks) h = checkpoint ? GradientCheckpoint.Run(x => b.call(x[0]), h) : b.call(h);
            h.Pow(2).mean().backward();
            return (input.grad!.clone(), blocks.SelectMany(b => b.parameters()).Select(p => p.grad!.clone()).ToList());
        }

        var plain = Grads(checkpoint: false);
        var recomputed = Grads(checkpoint: true);
        Assert.True((plain.Input - recomputed.Input).abs().max().item<float>() < 1e-5f);
        Assert.Equal(plain.Params.Count, recomputed.Params.Count);
        for (int i = 0; i < plain.Params.Count; i++)
            Assert.True((plain.Params[i] - recomputed.Params[i]).abs().max().item<float>() < 1e-5f, $"parameter {i}");
    }

    [Fact]
    public void Without_grad_mode_it_is_a_plain_call()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = ones(2);
        var y = GradientCheckpoint.Run(t => t[0].Mul(3), x);
        Assert.False(y.requires_grad);
        Assert.Equal(new[] { 3f, 3f }, y.data<float>().ToArray());
    }
}
