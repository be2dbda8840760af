using Peft.Typed.Models.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>
/// torch <c>nn.GroupNorm</c> (parameters <c>weight</c> and <c>bias</c> when affine, starting at 1 and 0). On CPU float32
/// the output follows the rounding of torch 1.13's CPU kernel (<see cref="GroupNormCpuKernel"/>), which the diffusers
/// references were made with; gradients are torch's group_norm gradients. Other devices and dtypes run torch's group_norm.
/// </summary>
public sealed class GroupNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter? weight;
    private readonly Parameter? bias;

    public GroupNorm(long numGroups, long numChannels, double eps, bool affine, Device? device = null, ScalarType? dtype = null) : base(nameof(GroupNorm))
    {
        if (numGroups <= 0 || numChannels <= 0 || numChannels % numGroups != 0)
            throw new ArgumentException($"GroupNorm: num_channels {numChannels} must be a positive multiple of num_groups {numGroups}.", nameof(numChannels));
        num_groups = numGroups;
        num_channels = numChannels;
        this.eps = eps;
        this.affine = affine;
        if (affine)
        {
            // Parameters outlive whatever dispose scope builds the model.
            weight = (Parameter)new Parameter(ones(numChannels, dtype ?? float32, device ?? CPU)).DetachFromDisposeScope();
            bias = (Parameter)new Parameter(zeros(numChannels, dtype ?? float32, device ?? CPU)).DetachFromDisposeScope();
        }
        RegisterComponents();
    }

    public long num_groups { get; }
    public long num_channels { get; }
    public double eps { get; }
    public bool affine { get; }

    /// <summary>The per-channel scale, or null when not affine.</summary>
    public Parameter? Weight => weight;

    /// <summary>The per-channel shift, or null when not affine.</summary>
    public Parameter? Bias => bias;

    public override Tensor forward(Tensor input)
    {
        if (input.dim() < 2 || input.shape[1] != num_channels)
            throw new ArgumentException($"GroupNorm '{GetName()}' expects input [N, {num_channels}, *], got [{string.Join(", ", input.shape)}].", nameof(input));
        using var scope = NewDisposeScope();
        if (!GroupNormCpuKernel.Handles(input, num_groups, weight, bias))
            return nn.functional.group_norm(input, num_groups, weight, bias, eps).MoveToOuterDisposeScope();
        Tensor output;
        using (no_grad()) output = GroupNormCpuKernel.Forward(input, num_groups, weight, bias, eps);
        if (is_grad_enabled() && (input.requires_grad || (weight?.requires_grad ?? false) || (bias?.requires_grad ?? false)))
        {
            // torch's group_norm carries the gradient; adding the detached difference gives the kernel's value (to ~1 ulp).
            var differentiable = nn.functional.group_norm(input, num_groups, weight, bias, eps);
            output = differentiable.Add((output - differentiable).detach());
        }
        return output.MoveToOuterDisposeScope();
    }
}
