using Peft.Typed.Models.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>
/// torch <c>nn.GroupNorm</c> (parameters <c>weight</c> and <c>bias</c> when affine, starting at 1 and 0), run by torch's
/// <c>group_norm</c>.
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
        return nn.functional.group_norm(input, num_groups, weight, bias, eps).MoveToOuterDisposeScope();
    }
}
