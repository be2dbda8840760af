using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>
/// diffusers <c>Timesteps</c>: the sinusoidal embedding of a [N] vector of timesteps, [N, num_channels], in float32.
/// </summary>
public sealed class Timesteps : nn.Module<Tensor, Tensor>
{
    private const double MaxPeriod = 10000;

    private readonly long _numChannels;
    private readonly bool _flipSinToCos;
    private readonly double _downscaleFreqShift;

    public Timesteps(ModuleNode node) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(Timesteps));
        _numChannels = node.Options.GetInt("num_channels");
        _flipSinToCos = node.Options.GetBool("flip_sin_to_cos");
        _downscaleFreqShift = node.Options.GetDouble("downscale_freq_shift");
        RegisterComponents();
    }

    public override Tensor forward(Tensor timesteps)
    {
        if (timesteps.dim() != 1) throw new ArgumentException($"Timesteps expects a 1-D tensor of timesteps, got shape [{string.Join(", ", timesteps.shape)}].", nameof(timesteps));
        using var scope = NewDisposeScope();
        long half = _numChannels / 2;
        // Same float32 operation order as diffusers' get_timestep_embedding: a different rounding of the
        // frequencies moves sin(999 * f) by more than the fixtures' tolerance.
        var exponent = TensorArithmetic.Arange(0, half, dtype: ScalarType.Float32, device: timesteps.device).Mul(-Math.Log(MaxPeriod));
        exponent = exponent.Div(half - _downscaleFreqShift);
        var arguments = timesteps.unsqueeze(1).to_type(ScalarType.Float32) * exponent.exp().unsqueeze(0);
        var embedding = _flipSinToCos
            ? cat([arguments.cos(), arguments.sin()], dim: -1)
            : cat([arguments.sin(), arguments.cos()], dim: -1);
        if (_numChannels % 2 == 1) embedding = nn.functional.pad(embedding, [0, 1, 0, 0]);
        return embedding.MoveToOuterDisposeScope();
    }
}
