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

    public TinyResnet() : base(nameof(TinyResnet))
    {
        norm1 = TinySdModule.GroupNorm(4, 16);
        conv1 = TinySdModule.Conv(16, 72, 3, padding: 1);
        time_emb_proj = TinySdModule.Linear(64, 72);
        norm2 = TinySdModule.GroupNorm(8, 72);
        conv2 = TinySdModule.Conv(72, 24, 3, padding: 1);
        conv_shortcut = TinySdModule.Conv(16, 24, 1);
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
