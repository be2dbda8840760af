using Peft.Typed.Models.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.Adapters.TinySd;

/// <summary><c>resnets.0</c>: conv1(silu(norm1(h))) + time_emb_proj(silu(temb)), conv2(silu(norm2(.))), plus conv_shortcut(h).</summary>
internal sealed class TinyResnet : nn.Module
{
    private readonly GroupNorm norm1;
    private readonly nn.Module<Tensor, Tensor> conv1;
    private readonly nn.Module<Tensor, Tensor> time_emb_proj;
    private readonly GroupNorm norm2;
    private readonly nn.Module<Tensor, Tensor> conv2;
    private readonly nn.Module<Tensor, Tensor> conv_shortcut;

    public TinyResnet(TinySdSpec spec) : base(nameof(TinyResnet))
    {
        norm1 = TinySdModule.GroupNorm(spec.GroupsIn, spec.Channels0);
        conv1 = TinySdModule.Conv(spec.Channels0, spec.MidChannels, 3, padding: 1);
        time_emb_proj = TinySdModule.Linear(spec.TimeDim, spec.MidChannels);
        norm2 = TinySdModule.GroupNorm(spec.GroupsMid, spec.MidChannels);
        conv2 = TinySdModule.Conv(spec.MidChannels, spec.OutChannels, 3, padding: 1);
        conv_shortcut = TinySdModule.Conv(spec.Channels0, spec.OutChannels, 1);
        RegisterComponents();
    }

    public Tensor forward(Tensor h, Tensor temb)
    {
        using var scope = NewDisposeScope();
        var r = conv1.call(nn.functional.silu(norm1.call(h)));
        r = r.Add(time_emb_proj.call(nn.functional.silu(temb)).unsqueeze(-1).unsqueeze(-1));
        r = conv2.call(nn.functional.silu(norm2.call(r)));
        return conv_shortcut.call(h).Add(r).MoveToOuterDisposeScope();
    }
}
