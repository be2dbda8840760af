using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>transformers <c>GELUActivation</c> ("gelu"): the exact erf GELU.</summary>
public sealed class GELUActivation : nn.Module<Tensor, Tensor>
{
    public GELUActivation() : base(nameof(GELUActivation)) { }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return nn.functional.gelu(input).MoveToOuterDisposeScope();
    }
}
