using Peft.Typed.Models.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary><c>attentions.0</c> (SD 1.x style): norm, 1×1 conv proj_in, one transformer block over H·W tokens, proj_out, residual.</summary>
internal sealed class TinyTransformer2D : nn.Module
{
    private readonly GroupNorm norm;
    private readonly nn.Module<Tensor, Tensor> proj_in;
    private readonly ModuleList<TinyTransformerBlock> transformer_blocks;
    private readonly nn.Module<Tensor, Tensor> proj_out;

    public TinyTransformer2D(TinySdSpec spec) : base(nameof(TinyTransformer2D))
    {
        norm = TinySdModule.GroupNorm(spec.GroupsOut, spec.OutChannels);
        proj_in = TinySdModule.Conv(spec.OutChannels, spec.Inner, 1);
        transformer_blocks = nn.ModuleList(new TinyTransformerBlock(spec));
        proj_out = TinySdModule.Conv(spec.Inner, spec.OutChannels, 1);
        RegisterComponents();
    }

    public Tensor forward(Tensor h, Tensor context)
    {
        using var scope = NewDisposeScope();
        long batch = h.shape[0], height = h.shape[2], width = h.shape[3];
        var x = proj_in.call(norm.call(h));
        long channels = x.shape[1];
        x = x.permute(0, 2, 3, 1).reshape(batch, height * width, channels);
        x = transformer_blocks[0].forward(x, context);
        x = x.reshape(batch, height, width, channels).permute(0, 3, 1, 2);
        return proj_out.call(x).Add(h).MoveToOuterDisposeScope();
    }
}
