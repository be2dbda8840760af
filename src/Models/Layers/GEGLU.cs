using Peft.Typed.Architecture.Tree;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Layers;

/// <summary>
/// diffusers <c>GEGLU</c>: <c>h, gate = proj(x).chunk(2, -1); h * gelu(gate)</c> — the first half is the value, the second
/// the gate, with the exact (erf) GELU.
/// </summary>
public sealed class GEGLU : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> proj;

    public GEGLU(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(GEGLU));
        proj = layers.Linear(node.Child("proj"));
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        var halves = proj.call(hiddenStates).chunk(2, dim: -1);
        return (halves[0] * nn.functional.gelu(halves[1])).MoveToOuterDisposeScope();
    }
}
