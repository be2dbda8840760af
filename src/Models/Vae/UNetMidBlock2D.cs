using Peft.Typed.Architecture.Tree;
using Peft.Typed.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Vae;

/// <summary>
/// diffusers <c>UNetMidBlock2D</c> as the VAE uses it: <c>resnets.0</c>, then pairs of <c>attentions.i</c> (single-head
/// attention with its own GroupNorm and residual) and <c>resnets.i+1</c>; no time embedding.
/// </summary>
public sealed class UNetMidBlock2D : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<Attention>? attentions;
    private readonly ModuleList<ResnetBlock2D> resnets;

    public UNetMidBlock2D(ModuleNode node, LayerFactory layers) : base(node.Path)
    {
        LayerFactory.Expect(node, nameof(UNetMidBlock2D));
        // mid_block_add_attention=False leaves the attentions out of the tree.
        if (node.HasChild("attentions")) attentions = nn.ModuleList(node.Child("attentions").Children.Select(n => new Attention(n, layers)).ToArray());
        resnets = nn.ModuleList(node.Child("resnets").Children.Select(n => new ResnetBlock2D(n, layers)).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        var hidden = resnets[0].call(hiddenStates, null);
        for (int i = 1; i < resnets.Count; i++)
        {
            if (attentions is not null) hidden = attentions[i - 1].call(hidden, null);
            hidden = resnets[i].call(hidden, null);
        }
        return hidden.MoveToOuterDisposeScope();
    }
}
