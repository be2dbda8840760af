using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Layers;

/// <summary>Layers.GroupNorm against the definition computed by hand in float64: values, gradients, bad input.</summary>
public class GroupNormTests
{
    private static (GroupNorm Norm, Tensor Input) Case()
    {
        var norm = new GroupNorm(4, 12, 1e-5, affine: true);
        using (no_grad())
        {
            norm.Weight!.copy_(linspace(0.5, 1.5, 12));
            norm.Bias!.copy_(linspace(-0.2, 0.3, 12));
        }
        var generator = new Generator(7);
        var input = randn([2, 12, 9, 11], generator: generator).Mul(2).Add(0.5);
        return (norm, input);
    }

    // (x − mean) / sqrt(var + eps) over each (sample, group of 3 channels), biased variance, then weight · y + bias per channel.
    private static Tensor ByHand(Tensor input, Tensor weight, Tensor bias)
    {
        var groups = input.to_type(ScalarType.Float64).reshape(2, 4, -1);
        var mean = groups.mean([2], keepdim: true);
        var centered = groups - mean;
        var variance = (centered * centered).mean([2], keepdim: true);
        var normalized = centered.div(variance.Add(1e-5).sqrt()).reshape(input.shape);
        return (normalized * weight.to_type(ScalarType.Float64).view(1, 12, 1, 1)).Add(bias.to_type(ScalarType.Float64).view(1, 12, 1, 1));
    }

    [Fact]
    public void Each_group_is_normalized_and_scaled_per_channel()
    {
        using var scope = NewDisposeScope();
        var (norm, input) = Case();
        using var noGrad = no_grad();
        Compare.Close(ByHand(input, norm.Weight!, norm.Bias!), norm.call(input).to_type(ScalarType.Float64), 1e-5);
    }

    [Fact]
    public void Gradients_reach_the_input_and_the_affine_parameters()
    {
        using var scope = NewDisposeScope();
        var (norm, input) = Case();
        var x = input.clone().requires_grad_(true);
        var upstream = linspace(-1, 1, x.numel()).reshape(x.shape);
        (norm.call(x) * upstream).sum().backward();
        var reference = input.to_type(ScalarType.Float64).requires_grad_(true);
        var weight = norm.Weight!.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var bias = norm.Bias!.detach().to_type(ScalarType.Float64).requires_grad_(true);
        (ByHand(reference, weight, bias) * upstream.to_type(ScalarType.Float64)).sum().backward();
        Compare.Close(reference.grad!, x.grad!.to_type(ScalarType.Float64), 1e-5);
        Compare.Close(weight.grad!, norm.Weight.grad!.to_type(ScalarType.Float64), 1e-4);
        Compare.Close(bias.grad!, norm.Bias.grad!.to_type(ScalarType.Float64), 1e-4);
    }

    [Fact]
    public void A_wrong_channel_count_is_rejected()
    {
        using var scope = NewDisposeScope();
        var (norm, _) = Case();
        var error = Assert.Throws<ArgumentException>(() => norm.call(zeros(1, 8, 4, 4)));
        Assert.StartsWith("GroupNorm 'GroupNorm' expects input [N, 12, *], got [1, 8, 4, 4].", error.Message);
    }
}
