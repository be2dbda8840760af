using Peft.Typed.Models.Runtime;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>transformers <c>QuickGELUActivation</c> (OpenAI CLIP's "quick_gelu"): <c>x * sigmoid(1.702 x)</c>.</summary>
public sealed class QuickGELUActivation : nn.Module<Tensor, Tensor>
{
    public QuickGELUActivation() : base(nameof(QuickGELUActivation)) { }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return (input * input.Mul(1.702).sigmoid()).MoveToOuterDisposeScope();
    }
}
