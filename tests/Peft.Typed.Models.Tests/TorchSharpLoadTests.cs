using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests;

public class TorchSharpLoadTests
{
    [Fact]
    public void Native_backend_loads_and_computes_gradients()
    {
        using var scope = NewDisposeScope();
        var w = tensor(new float[] { 1f, 2f, 3f }).requires_grad_();
        var loss = (w * w).sum();
        loss.backward();
        Assert.Equal(14f, loss.item<float>());
        Assert.Equal(new[] { 2f, 4f, 6f }, w.grad!.data<float>().ToArray());
    }

    [Fact]
    public void Convolution_matches_a_hand_computed_value()
    {
        using var scope = NewDisposeScope();
        var x = ones(1, 1, 3, 3);
        var k = ones(1, 1, 3, 3).Mul(0.5);
        var y = nn.functional.conv2d(x, k, padding: [1, 1]);
        // Centre sees all 9 ones, a corner 4.
        Assert.Equal(4.5f, y[0, 0, 1, 1].item<float>());
        Assert.Equal(2.0f, y[0, 0, 0, 0].item<float>());
    }
}
