using Peft.Typed.Models.Layers;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Layers;

/// <summary>Layers.GroupNorm against torch's group_norm: values at normal variance, gradients, other dtypes, bad input.</summary>
public class GroupNormTests
{
    // [2, 12, 9, 11]: rows of 3 * 99 values (a tail after the 8-wide vectors, 3 chunks of 16 vectors in the cascade).
    private static (GroupNorm Norm, Tensor Input) Case(ScalarType dtype = ScalarType.Float32)
    {
        var norm = new GroupNorm(4, 12, 1e-5, affine: true);
        using (no_grad())
        {
            norm.Weight!.copy_(linspace(0.5, 1.5, 12));
            norm.Bias!.copy_(linspace(-0.2, 0.3, 12));
        }
        var generator = new Generator(7);
        var input = randn([2, 12, 9, 11], generator: generator).Mul(2).Add(0.5).to_type(dtype);
        return (norm, input);
    }

    [Fact]
    public void Matches_torch_group_norm_at_normal_variance()
    {
        using var scope = NewDisposeScope();
        var (norm, input) = Case();
        using var noGrad = no_grad();
        Compare.Close(nn.functional.group_norm(input, 4, norm.Weight, norm.Bias, 1e-5), norm.call(input), 1e-6);
    }

    [Fact]
    public void Gradients_are_torch_group_norm_gradients()
    {
        using var scope = NewDisposeScope();
        var (norm, input) = Case();
        var x = input.clone().requires_grad_(true);
        var upstream = linspace(-1, 1, x.numel()).reshape(x.shape);
        (norm.call(x) * upstream).sum().backward();
        var reference = input.clone().requires_grad_(true);
        var weight = norm.Weight!.detach().clone().requires_grad_(true);
        var bias = norm.Bias!.detach().clone().requires_grad_(true);
        (nn.functional.group_norm(reference, 4, weight, bias, 1e-5) * upstream).sum().backward();
        Compare.Close(reference.grad!, x.grad!, 1e-6);
        Compare.Close(weight.grad!, norm.Weight.grad!, 1e-5);
        Compare.Close(bias.grad!, norm.Bias.grad!, 1e-5);
    }

    [Fact]
    public void Other_dtypes_run_torch_group_norm()
    {
        using var scope = NewDisposeScope();
        var (norm, input) = Case(ScalarType.BFloat16);
        norm.to(ScalarType.BFloat16);
        using var noGrad = no_grad();
        var output = norm.call(input);
        Assert.Equal(ScalarType.BFloat16, output.dtype);
        Assert.True(output.equal(nn.functional.group_norm(input, 4, norm.Weight, norm.Bias, 1e-5)).all().item<bool>());
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
